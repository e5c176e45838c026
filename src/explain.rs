//! `--explain`: every source, what it held and why it was taken or not, the detected
//! environment, and what a run would do; as text for people or JSON for machines.

use std::fmt::Write;

use crate::sources::Note;

/// Everything `--explain` reports. Built by [`crate::run`], rendered here.
#[derive(Debug, Clone)]
pub struct Explanation {
    pub root: String,
    pub host_root: String,
    pub file: String,
    pub state: String,
    pub container: Option<String>,
    pub hypervisor: Option<String>,
    pub chroot: bool,
    pub pid1: bool,
    pub systemd: Option<u32>,
    /// `preserve` or `commit` for the first-boot states, else `None`.
    pub first_boot: Option<&'static str>,
    pub notes: Vec<Note>,
    /// The winning id and where it came from.
    pub chosen: Option<(String, String, String)>,
    /// What a real run would do, in words.
    pub action: String,
}

pub fn render_text(x: &Explanation) -> String {
    let mut s = String::new();
    let or_none = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
    let _ = writeln!(s, "File:        {} ({})", x.file, x.state);
    let _ = writeln!(s, "Root:        {}", x.root);
    let _ = writeln!(s, "Host root:   {}", x.host_root);
    let _ = writeln!(s, "Container:   {}", or_none(&x.container));
    let _ = writeln!(s, "Hypervisor:  {}", or_none(&x.hypervisor));
    let _ = writeln!(s, "Chroot:      {}", if x.chroot { "yes" } else { "no" });
    let _ = writeln!(s, "PID 1:       {}", if x.pid1 { "yes" } else { "no" });
    let _ = writeln!(
        s,
        "systemd:     {}",
        x.systemd.map_or("none found".into(), |v| v.to_string())
    );
    if let Some(fb) = x.first_boot {
        let _ = writeln!(s, "First boot:  {fb}");
    }
    let _ = writeln!(s, "Sources:");
    for n in &x.notes {
        let text = if n.text.is_empty() { "-" } else { &n.text };
        let _ = writeln!(
            s,
            "  {:<11} {:<9} {text}",
            n.source.name(),
            n.verdict.name()
        );
    }
    let _ = writeln!(s, "Result:      {}", x.action);
    s
}

pub fn render_json(x: &Explanation) -> String {
    let notes: Vec<String> = x
        .notes
        .iter()
        .map(|n| {
            format!(
                "{{\"source\":{},\"verdict\":{},\"detail\":{}}}",
                q(n.source.name()),
                q(n.verdict.name()),
                q(&n.text)
            )
        })
        .collect();
    let chosen = match &x.chosen {
        Some((id, source, origin)) => format!(
            "{{\"id\":{},\"source\":{},\"origin\":{}}}",
            q(id),
            q(source),
            q(origin)
        ),
        None => "null".into(),
    };
    format!(
        "{{\"file\":{},\"state\":{},\"root\":{},\"host_root\":{},\"environment\":{{\"container\":{},\"hypervisor\":{},\"chroot\":{},\"pid1\":{},\"systemd\":{}}},\"first_boot\":{},\"sources\":[{}],\"chosen\":{},\"action\":{}}}\n",
        q(&x.file),
        q(&x.state),
        q(&x.root),
        q(&x.host_root),
        opt(&x.container),
        opt(&x.hypervisor),
        x.chroot,
        x.pid1,
        x.systemd.map_or("null".into(), |v| v.to_string()),
        x.first_boot.map_or("null".into(), q),
        notes.join(","),
        chosen,
        q(&x.action)
    )
}

fn opt(v: &Option<String>) -> String {
    v.as_deref().map_or("null".into(), q)
}

/// A JSON string: quotes, backslashes and control characters escaped.
fn q(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(q("a\"b\\c\nd\u{1}"), r#""a\"b\\c\nd\u0001""#);
    }
}

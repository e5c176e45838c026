//! `--explain`: every source, what it held and why it was taken or not, the detected
//! environment, and what a run would do; built from the decision and rendered as text for
//! people or JSON for machines. Printing is `main`'s job.

use std::fmt::Write;

use crate::decide::Decision;
use crate::detect::Environment;
use crate::first_boot;
use crate::origin::{self, Found};
use crate::sources::{Candidate, Note, Selection};

/// Everything `--explain` reports.
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
    /// The winning source's id and where it came from.
    pub chosen: Option<Candidate>,
    /// SPEC §9: the policy, the origin record as found, and what the check made of it.
    pub on_clone: &'static str,
    pub origin: String,
    pub clone_check: Option<String>,
    /// What a real run would do, in words.
    pub action: String,
}

pub fn build(
    env: &Environment,
    decision: &Decision,
    sel: &Selection,
    bind_mount: bool,
) -> Explanation {
    let roots = env.roots();
    Explanation {
        root: roots.root().display().to_string(),
        host_root: roots.host().display().to_string(),
        file: decision.target.link.display().to_string(),
        state: decision.target.state.to_string(),
        container: env.container().map(str::to_string),
        hypervisor: env.hypervisor().map(str::to_string),
        chroot: env.in_chroot(),
        pid1: env.is_pid1(),
        systemd: first_boot::systemd_version(roots).map(|(v, _)| v),
        first_boot: decision.plan.first_boot_name(),
        notes: sel.notes.clone(),
        chosen: sel.winner.clone(),
        on_clone: decision.policy.name(),
        origin: match origin::read(roots) {
            Found::Absent => "none".into(),
            Found::Malformed(why) => format!("malformed: {why}"),
            Found::Record(r) => format!(
                "machine ID {} from source '{}', {} re-identification(s) in a row",
                r.machine_id, r.source, r.reinits
            ),
        },
        clone_check: decision.clone.as_ref().map(|c| c.says.clone()),
        action: decision.describe(roots, bind_mount),
    }
}

pub fn render_text(x: &Explanation) -> String {
    let mut s = String::new();
    let or_none = |o: &Option<String>| o.clone().unwrap_or_else(|| "none".into());
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    let _ = writeln!(s, "File:        {} ({})", x.file, x.state);
    let _ = writeln!(s, "Root:        {}", x.root);
    let _ = writeln!(s, "Host root:   {}", x.host_root);
    let _ = writeln!(s, "Container:   {}", or_none(&x.container));
    let _ = writeln!(s, "Hypervisor:  {}", or_none(&x.hypervisor));
    let _ = writeln!(s, "Chroot:      {}", yes_no(x.chroot));
    let _ = writeln!(s, "PID 1:       {}", yes_no(x.pid1));
    let _ = writeln!(
        s,
        "systemd:     {}",
        x.systemd.map_or("none found".into(), |v| v.to_string())
    );
    if let Some(fb) = x.first_boot {
        let _ = writeln!(s, "First boot:  {fb}");
    }
    let _ = writeln!(s, "On clone:    {}", x.on_clone);
    let _ = writeln!(s, "Origin:      {}", x.origin);
    if let Some(c) = &x.clone_check {
        let _ = writeln!(s, "Clone check: {c}");
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
    let mut environment = Object::default();
    environment
        .field("container", opt(&x.container))
        .field("hypervisor", opt(&x.hypervisor))
        .field("chroot", x.chroot.to_string())
        .field("pid1", x.pid1.to_string())
        .field(
            "systemd",
            x.systemd.map_or("null".into(), |v| v.to_string()),
        );
    let sources: Vec<String> = x
        .notes
        .iter()
        .map(|n| {
            let mut o = Object::default();
            o.field("source", q(n.source.name()))
                .field("verdict", q(n.verdict.name()))
                .field("detail", q(&n.text));
            o.finish()
        })
        .collect();
    let chosen = x.chosen.as_ref().map_or("null".into(), |c| {
        let mut o = Object::default();
        o.field("id", q(&c.id.to_string()))
            .field("source", q(c.source.name()))
            .field("origin", q(&c.origin));
        o.finish()
    });
    let mut top = Object::default();
    top.field("file", q(&x.file))
        .field("state", q(&x.state))
        .field("root", q(&x.root))
        .field("host_root", q(&x.host_root))
        .field("environment", environment.finish())
        .field("first_boot", x.first_boot.map_or("null".into(), q))
        .field("sources", format!("[{}]", sources.join(",")))
        .field("chosen", chosen)
        .field("on_clone", q(x.on_clone))
        .field("origin", q(&x.origin))
        .field("clone_check", opt(&x.clone_check))
        .field("action", q(&x.action));
    top.finish() + "\n"
}

/// A JSON object being written: fields in order, values already rendered.
#[derive(Default)]
struct Object(String);

impl Object {
    fn field(&mut self, key: &str, value: String) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push(',');
        }
        let _ = write!(self.0, "{}:{value}", q(key));
        self
    }

    fn finish(&self) -> String {
        format!("{{{}}}", self.0)
    }
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

    #[test]
    fn json_objects_keep_field_order() {
        let mut o = Object::default();
        o.field("a", q("x")).field("b", "null".into());
        assert_eq!(o.finish(), r#"{"a":"x","b":null}"#);
        assert_eq!(Object::default().finish(), "{}");
    }
}

//! `systemd.machine_id=` (or `systemd.machine-id=`) on the kernel command line.

use super::{Answer, Answers, id_or_firmware};
use crate::detect::Environment;
use crate::proc;

const KEY: &str = "systemd.machine_id";
const ORIGIN: &str = "systemd.machine_id= on the kernel command line";

pub fn lookup(env: &Environment) -> Answers {
    if let Some(c) = env.container() {
        return vec![Answer::Skipped(format!(
            "Not reading the kernel command line: in a container ({c}) it is the host's."
        ))];
    }
    let Some(words) = env.cmdline() else {
        return vec![Answer::Nothing(
            "the kernel command line cannot be read.".into(),
        )];
    };
    // The last usable occurrence wins, as in systemd; unusable ones are refused on the way.
    let mut answers = Answers::new();
    let mut usable = None;
    for value in proc::cmdline_values(words, KEY) {
        match id_or_firmware(value, ORIGIN) {
            refused @ Answer::Rejected(_) => answers.push(refused),
            found => usable = Some(found),
        }
    }
    match usable {
        Some(found) => answers.push(found),
        None if answers.is_empty() => answers.push(Answer::Nothing(format!(
            "no {KEY}= on the kernel command line."
        ))),
        None => {}
    }
    answers
}

//! `systemd.machine_id=` (or `systemd.machine-id=`) on the kernel command line.

use super::{Lookup, id_or_firmware};
use crate::detect::Environment;
use crate::proc;

const KEY: &str = "systemd.machine_id";

pub fn lookup(env: &Environment) -> Lookup {
    if let Some(c) = env.container() {
        env.trail().skip(format_args!(
            "Not reading the kernel command line: in a container ({c}) it is the host's."
        ));
        return Lookup::Nothing;
    }
    let Some(words) = env.cmdline() else {
        return Lookup::Nothing;
    };
    // The last usable occurrence wins, as in systemd; unusable ones are logged and skipped.
    proc::cmdline_values(words, KEY)
        .map(|v| id_or_firmware(env, v, "systemd.machine_id= on the kernel command line"))
        .filter(|l| *l != Lookup::Nothing)
        .last()
        .unwrap_or(Lookup::Nothing)
}

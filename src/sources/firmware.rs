//! The firmware's UUID also on bare metal (off by default: bare-metal UUIDs are often
//! placeholders or duplicates). `vm` acts as this source when `systemd.machine_id=firmware`
//! asks for it.

use super::{Answer, Answers, uuid_files};
use crate::detect::Environment;

pub fn lookup(env: &Environment) -> Answers {
    if let Some(c) = env.container() {
        return vec![Answer::Skipped(format!(
            "Not reading the firmware UUID: in a container ({c}) it is the host's."
        ))];
    }
    vec![uuid_files::read(
        env,
        env.hypervisor().unwrap_or("bare metal"),
    )]
}

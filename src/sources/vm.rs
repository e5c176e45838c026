//! The UUID the hypervisor gives this machine: only when a hypervisor is detected, and never in
//! a container (it is the host's there).

use super::{Answer, Answers, uuid_files};
use crate::detect::Environment;

pub fn lookup(env: &Environment) -> Answers {
    if let Some(c) = env.container() {
        return vec![Answer::Skipped(format!(
            "Not reading the firmware UUID: in a container ({c}) it is the host's."
        ))];
    }
    vec![match env.hypervisor() {
        Some(h) => uuid_files::read(env, h),
        None => Answer::Skipped(
            "No hypervisor: not using the firmware UUID (use --sources firmware for bare metal)."
                .into(),
        ),
    }]
}

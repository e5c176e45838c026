//! 128 random bits from the kernel, as a v4 UUID: the last resort, as in systemd. The log says
//! why it came to that (SPEC §8): a random id where the manager was expected to pass one is
//! what an administrator needs to see explained.

use log::error;

use super::{Lookup, Source, Verdict};
use crate::detect::Environment;
use crate::machine_id::MachineId;

/// `asked`: the sources tried before this one; `firmware`: whether `vm` acted as `firmware`.
pub fn lookup(env: &Environment, asked: &[Source], firmware: bool) -> Lookup {
    match MachineId::random() {
        Ok(id) => Lookup::Id(
            id,
            format!(
                "the kernel's random source ({})",
                why_random(env, asked, firmware)
            ),
        ),
        Err(e) => {
            error!("Failed to get random bytes from the kernel: {e}.");
            Lookup::Nothing
        }
    }
}

/// Why no deterministic source applied, in a few words.
fn why_random(env: &Environment, asked: &[Source], firmware: bool) -> String {
    let rejected = |s: Source| {
        env.trail()
            .notes()
            .iter()
            .any(|n| n.source == s && n.verdict == Verdict::Rejected)
    };
    let firmware_asked = asked.contains(&Source::Firmware);
    let vm_asked = asked.contains(&Source::Vm) || firmware_asked;
    if env.in_chroot() && asked.iter().any(|s| s.refused_in_chroot()) {
        return "in a chroot, the outer machine's sources are refused".into();
    }
    if let Some(manager) = env.container() {
        return match (
            asked.contains(&Source::Container),
            rejected(Source::Container),
        ) {
            (false, _) => {
                format!("in a container ({manager}); the 'container' source was not asked")
            }
            (true, true) => format!("the container manager's ({manager}) UUID was rejected"),
            (true, false) => format!("the container manager ({manager}) passed no UUID"),
        };
    }
    if !vm_asked {
        return "no hypervisor or container source was asked".into();
    }
    let vm = if firmware_asked {
        Source::Firmware
    } else {
        Source::Vm
    };
    if rejected(vm) {
        return "the firmware UUID was rejected".into();
    }
    match env.hypervisor() {
        None if !(firmware || firmware_asked) => "no hypervisor detected".into(),
        Some(h) => format!("the hypervisor ({h}) passed no UUID"),
        None => "the firmware has no UUID".into(),
    }
}

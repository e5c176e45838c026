//! 128 random bits from the kernel, as a v4 UUID: the last resort, as in systemd. The log says
//! why it came to that (SPEC §8): a random id where the manager was expected to pass one is
//! what an administrator needs to see explained. A random id also never displaces one that an
//! earlier stage of this boot handed over in `run/machine-id` ([`keeps_earlier_handover`]).

use super::{Answer, Answers, Candidate, Selection, Source};
use crate::detect::Environment;
use crate::machine_id::MachineId;

/// `asked`: the sources tried before this one; `as_firmware`: whether `vm` acted as `firmware`;
/// `so_far`: what they said.
pub fn lookup(
    env: &Environment,
    asked: &[Source],
    as_firmware: bool,
    so_far: &Selection,
) -> Answers {
    vec![match MachineId::random() {
        Ok(id) => Answer::Id {
            id,
            origin: format!(
                "the kernel's random source ({})",
                why_random(env, asked, as_firmware, so_far)
            ),
        },
        Err(e) => Answer::rejected(format_args!("the kernel's random source: {e}")),
    }]
}

/// A candidate from this source keeps a valid id already in `run/machine-id` instead of
/// replacing it, so repeated `preserve` runs (and an initrd's hand-over) agree.
pub fn keeps_earlier_handover(c: &Candidate) -> bool {
    c.source == Source::Random
}

/// Why no deterministic source applied, in a few words.
fn why_random(
    env: &Environment,
    asked: &[Source],
    as_firmware: bool,
    so_far: &Selection,
) -> String {
    let firmware_asked = asked.contains(&Source::Firmware);
    let vm_asked = asked.contains(&Source::Vm) || firmware_asked;
    if env.in_chroot() && asked.iter().any(|s| s.refused_in_chroot()) {
        return "in a chroot, the outer machine's sources are refused".into();
    }
    if let Some(manager) = env.container() {
        return match (
            asked.contains(&Source::Container),
            so_far.rejected(Source::Container),
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
    if so_far.rejected(vm) {
        return "the firmware UUID was rejected".into();
    }
    match env.hypervisor() {
        None if !(as_firmware || firmware_asked) => "no hypervisor detected".into(),
        Some(h) => format!("the hypervisor ({h}) passed no UUID"),
        None => "the firmware has no UUID".into(),
    }
}

//! The files where firmware puts the machine's UUID, read by the `vm` and `firmware` sources.

use super::{Answer, strip_one};
use crate::deny_list;
use crate::detect::Environment;
use crate::machine_id::MachineId;
use crate::read::{self, ID_FILE_MAX};

/// Only the first of these that exists is read: a broken one is not a reason to trust another.
/// The last column is the terminator allowed after the UUID (one byte at most: a device-tree
/// string ends in NUL, or else in a newline, never both).
pub const UUID_FILES: &[(&str, &str, &[u8])] = &[
    (
        "sys/class/dmi/id/product_uuid",
        "SMBIOS product UUID",
        b"\n",
    ),
    ("proc/device-tree/vm,uuid", "device-tree vm,uuid", b"\0\n"),
    ("sys/hypervisor/uuid", "Xen hypervisor UUID", b"\n"),
];

/// The firmware's UUID on `platform` (a hypervisor's name, or "bare metal"): dashed form only,
/// and never one on the deny-list.
pub fn read(env: &Environment, platform: &str) -> Answer {
    for (rel, what, terminator) in UUID_FILES {
        let path = env.roots().host_join(rel);
        let origin = format!("{what} ({platform})");
        let bytes = match read::read_host(env.roots(), rel, ID_FILE_MAX) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => return Answer::rejected(format_args!("{origin} {}: {e}", path.display())),
        };
        let Some(id) = MachineId::parse_dashed(strip_one(&bytes, terminator)) else {
            return Answer::rejected(format_args!(
                "{origin} {}: {} is not a UUID",
                path.display(),
                read::escape(&bytes)
            ));
        };
        if let Some(why) = deny_list::rejection(&id) {
            return Answer::rejected(format_args!("{origin} {}: {why}", id.dashed()));
        }
        return Answer::Id { id, origin };
    }
    Answer::Nothing("no firmware UUID file exists.".into())
}

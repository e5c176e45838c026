//! The UUID the hypervisor (`vm`) or the firmware (`firmware`) gives this machine.

use log::debug;

use super::{Lookup, strip_one};
use crate::detect::Environment;
use crate::machine_id::MachineId;
use crate::read::{self, ID_FILE_MAX};

/// Only the first of these that exists is read: a broken one is not a reason to trust another.
/// The last column is the terminator allowed after the UUID (one byte at most: a device-tree
/// string ends in NUL, or else in a newline, never both).
const UUID_FILES: &[(&str, &str, &[u8])] = &[
    (
        "sys/class/dmi/id/product_uuid",
        "SMBIOS product UUID",
        b"\n",
    ),
    ("proc/device-tree/vm,uuid", "device-tree vm,uuid", b"\0\n"),
    ("sys/hypervisor/uuid", "Xen hypervisor UUID", b"\n"),
];

pub fn lookup(env: &Environment, firmware: bool) -> Lookup {
    if let Some(c) = env.container() {
        env.trail().skip(format_args!(
            "Not reading the firmware UUID: in a container ({c}) it is the host's."
        ));
        return Lookup::Nothing;
    }
    let platform = match env.hypervisor() {
        Some(h) => h.to_string(),
        None if firmware => "bare metal".to_string(),
        None => {
            env.trail().skip(format_args!(
                "No hypervisor: not using the firmware UUID (use --sources firmware for bare metal)."
            ));
            return Lookup::Nothing;
        }
    };
    for (rel, what, terminator) in UUID_FILES {
        let path = env.roots().host_join(rel);
        let origin = format!("{what} ({platform})");
        let bytes = match read::read_host(env.roots(), rel, ID_FILE_MAX) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                env.trail()
                    .reject(format_args!("{origin} {}: {e}", path.display()));
                return Lookup::Nothing;
            }
        };
        let Some(id) = MachineId::parse_dashed(strip_one(&bytes, terminator)) else {
            env.trail().reject(format_args!(
                "{origin} {}: {} is not a UUID",
                path.display(),
                read::escape(&bytes)
            ));
            return Lookup::Nothing;
        };
        if let Some(why) = id.firmware_rejection() {
            env.trail()
                .reject(format_args!("{origin} {}: {why}", id.dashed()));
            return Lookup::Nothing;
        }
        return Lookup::Id(id, origin);
    }
    debug!("No firmware UUID file exists.");
    Lookup::Nothing
}

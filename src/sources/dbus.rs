//! D-Bus's own id file. Below the hypervisor on purpose: in cloned templates it is the stale
//! template id that makes clones collide.

use log::debug;

use super::{Lookup, id_bytes};
use crate::detect::Environment;
use crate::read::{self, ID_FILE_MAX};

const DBUS_MACHINE_ID: &str = "var/lib/dbus/machine-id";

pub fn lookup(env: &Environment) -> Lookup {
    let resolved = match env.roots().in_root_nofollow(DBUS_MACHINE_ID) {
        Ok(r) => r,
        Err(e) => {
            debug!("No {DBUS_MACHINE_ID}: {e}.");
            return Lookup::Nothing;
        }
    };
    // The conventional symlink to /etc/machine-id is not a second opinion.
    match std::fs::symlink_metadata(&resolved.path) {
        Ok(m) if !m.is_file() => {
            env.trail().reject(format_args!(
                "D-Bus machine ID {}: it is {}, not a regular file",
                resolved.path.display(),
                read::describe(m.file_type())
            ));
            Lookup::Nothing
        }
        Ok(_) => id_bytes(
            env,
            read::read_capped(&resolved.path, ID_FILE_MAX),
            &resolved.path,
            "D-Bus machine ID",
        ),
        Err(_) => Lookup::Nothing,
    }
}

//! `/run/machine-id` from an earlier stage of this boot (systemd's initrd, or an earlier run of
//! ours in `preserve` mode): reusing it keeps initrd and booted system on one id.

use log::info;

use super::{Lookup, id_file};
use crate::detect::Environment;
use crate::roots;

pub fn lookup(env: &Environment) -> Lookup {
    match env.roots().in_host(roots::RUN_MACHINE_ID) {
        Ok(r) => id_file(&r.path, "the id of an earlier boot stage"),
        Err(e) => {
            info!(
                "Ignoring {}: {e}.",
                env.roots().host_join(roots::RUN_MACHINE_ID).display()
            );
            Lookup::Nothing
        }
    }
}

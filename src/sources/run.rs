//! `/run/machine-id` from an earlier stage of this boot (systemd's initrd, or an earlier run of
//! ours in `preserve` mode): reusing it keeps initrd and booted system on one id.

use super::{Lookup, id_bytes};
use crate::detect::Environment;
use crate::read::{self, ID_FILE_MAX};
use crate::roots;

pub fn lookup(env: &Environment) -> Lookup {
    let read = read::read_host(env.roots(), roots::RUN_MACHINE_ID, ID_FILE_MAX);
    id_bytes(
        env,
        read,
        &env.roots().host_join(roots::RUN_MACHINE_ID),
        "the id of an earlier boot stage",
    )
}

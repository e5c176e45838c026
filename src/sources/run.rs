//! `/run/machine-id` from an earlier stage of this boot (systemd's initrd, or an earlier run of
//! ours in `preserve` mode): reusing it keeps initrd and booted system on one id. Below every
//! deterministic source: a random id found there must never beat the hypervisor's UUID.

use super::{Answers, id_file};
use crate::detect::Environment;
use crate::read::{self, ID_FILE_MAX};
use crate::roots;

pub fn lookup(env: &Environment) -> Answers {
    let read = read::read_host(env.roots(), roots::RUN_MACHINE_ID, ID_FILE_MAX);
    vec![id_file(
        read,
        &env.roots().host_join(roots::RUN_MACHINE_ID),
        "the id of an earlier boot stage",
    )]
}

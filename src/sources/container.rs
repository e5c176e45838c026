//! The UUID a container manager gives its container: `container_uuid=` in PID 1's environment,
//! then `run/host/container-uuid`.

use super::{Lookup, id_or_firmware, strip_one};
use crate::detect::Environment;
use crate::read::{self, ID_FILE_MAX};

const CONTAINER_UUID_FILE: &str = "run/host/container-uuid";

pub fn lookup(env: &Environment) -> Lookup {
    let Some(manager) = env.container() else {
        env.trail()
            .skip(format_args!("Not in a container: no container UUID."));
        return Lookup::Nothing;
    };
    if let Some(v) = env.pid1_env("container_uuid") {
        let origin = format!("container UUID ({manager}, container_uuid= of PID 1)");
        if let Lookup::Id(id, o) = only_id(env, &v, &origin) {
            return Lookup::Id(id, o);
        }
    }
    let path = env.roots().host_join(CONTAINER_UUID_FILE);
    match read::read_host(env.roots(), CONTAINER_UUID_FILE, ID_FILE_MAX) {
        Ok(Some(bytes)) => only_id(
            env,
            strip_one(&bytes, b"\n"),
            &format!("container UUID ({manager}, {})", path.display()),
        ),
        Ok(None) => Lookup::Nothing,
        Err(e) => {
            env.trail().reject(format_args!("{}: {e}", path.display()));
            Lookup::Nothing
        }
    }
}

/// `firmware` means nothing here: a container has no firmware of its own.
fn only_id(env: &Environment, value: &[u8], origin: &str) -> Lookup {
    if value == b"firmware" {
        env.trail()
            .reject(format_args!("{origin}: \"firmware\" is not a machine ID"));
        return Lookup::Nothing;
    }
    id_or_firmware(env, value, origin)
}

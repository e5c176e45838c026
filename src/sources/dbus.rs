//! D-Bus's own id file. Below the hypervisor on purpose: in cloned templates it is the stale
//! template id that makes clones collide.

use super::{Answer, Answers, id_file};
use crate::detect::Environment;
use crate::read::{self, ID_FILE_MAX};

pub const DBUS_MACHINE_ID: &str = "var/lib/dbus/machine-id";

pub fn lookup(env: &Environment) -> Answers {
    let resolved = match env.roots().in_root_nofollow(DBUS_MACHINE_ID) {
        Ok(r) => r,
        Err(e) => return vec![Answer::Nothing(format!("no {DBUS_MACHINE_ID}: {e}."))],
    };
    let path = &resolved.path;
    vec![match &resolved.meta {
        // The conventional symlink to /etc/machine-id is not a second opinion.
        Some(m) if !m.is_file() => Answer::rejected(format_args!(
            "D-Bus machine ID {}: it is {}, not a regular file",
            path.display(),
            read::describe(m.file_type())
        )),
        Some(_) => id_file(
            read::read_capped(path, ID_FILE_MAX),
            path,
            "D-Bus machine ID",
        ),
        None => Answer::Nothing(format!("{} does not exist.", path.display())),
    }]
}

//! The UUID a container manager gives its container: `container_uuid=` in PID 1's environment,
//! then `run/host/container-uuid`.

use super::{Answer, Answers, id_or_firmware, strip_one};
use crate::detect::Environment;
use crate::read::{self, ID_FILE_MAX};

const CONTAINER_UUID_FILE: &str = "run/host/container-uuid";

pub fn lookup(env: &Environment) -> Answers {
    let Some(manager) = env.container() else {
        return vec![Answer::Skipped(
            "Not in a container: no container UUID.".into(),
        )];
    };
    let mut answers = Answers::new();
    if let Some(v) = env.pid1_env("container_uuid") {
        let origin = format!("container UUID ({manager}, container_uuid= of PID 1)");
        match only_id(&v, &origin) {
            found @ Answer::Id { .. } => return vec![found],
            refused => answers.push(refused),
        }
    }
    let path = env.roots().host_join(CONTAINER_UUID_FILE);
    answers.push(
        match read::read_host(env.roots(), CONTAINER_UUID_FILE, ID_FILE_MAX) {
            Ok(Some(bytes)) => only_id(
                strip_one(&bytes, b"\n"),
                &format!("container UUID ({manager}, {})", path.display()),
            ),
            Ok(None) if answers.is_empty() => Answer::Nothing(format!(
                "the container manager ({manager}) passed no UUID: no container_uuid= in PID \
                 1's environment, no {}.",
                path.display()
            )),
            Ok(None) => return answers,
            Err(e) => Answer::rejected(format_args!("{}: {e}", path.display())),
        },
    );
    answers
}

/// `firmware` means nothing here: a container has no firmware of its own.
fn only_id(value: &[u8], origin: &str) -> Answer {
    if value == b"firmware" {
        return Answer::rejected(format_args!("{origin}: \"firmware\" is not a machine ID"));
    }
    id_or_firmware(value, origin)
}

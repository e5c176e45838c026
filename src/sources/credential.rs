//! The systemd credential `system.machine_id`, in every place systemd's PID 1 looks for it.

use std::path::Path;

use super::{Answer, Answers, id_or_firmware};
use crate::detect::Environment;
use crate::proc;
use crate::read::{self, BLOB_MAX, ID_FILE_MAX};

const NAME: &str = "system.machine_id";
const SYSTEM_CREDENTIALS: &str = "run/credentials/@system";
const FW_CFG: &str =
    "sys/firmware/qemu_fw_cfg/by_name/opt/io.systemd.credentials/system.machine_id/raw";
const DMI_ENTRIES: &str = "sys/firmware/dmi/entries";
const SMBIOS_PREFIX: &[u8] = b"io.systemd.credential:system.machine_id=";
const CMDLINE_KEY: &str = "systemd.set_credential";

/// A place that holds the credential: its value and where it was, in words.
type Held = Option<(Vec<u8>, String)>;

/// systemd imports credentials into one set where the first one imported stays: the first place
/// that holds `system.machine_id` decides, even when its value is unusable (then this source
/// yields nothing, and no later place is consulted). A place that cannot be read imported
/// nothing; it is refused on the way.
pub fn lookup(env: &Environment) -> Answers {
    let mut answers = Answers::new();
    let places: [&dyn Fn(&mut Answers) -> Held; 5] = [
        &|a| credentials_directory(env, a),
        &|a| credential_file(env, &Path::new(SYSTEM_CREDENTIALS).join(NAME), a),
        // Firmware and the kernel command line belong to the host when we are in a container.
        &|a| outside_container(env, || credential_file(env, Path::new(FW_CFG), a)),
        &|a| outside_container(env, || smbios(env, a)),
        &|_| outside_container(env, || cmdline(env)),
    ];
    let held = places.iter().find_map(|place| place(&mut answers));
    answers.push(match held {
        Some((value, origin)) => id_or_firmware(&value, &origin),
        None => Answer::Nothing(format!("no {NAME} credential.")),
    });
    answers
}

fn outside_container(env: &Environment, f: impl FnOnce() -> Held) -> Held {
    if env.container().is_some() { None } else { f() }
}

fn credentials_directory(env: &Environment, answers: &mut Answers) -> Held {
    use std::os::unix::ffi::OsStrExt;
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|v| v.as_bytes().to_vec())
        .or_else(|| env.pid1_env("CREDENTIALS_DIRECTORY"));
    match dir {
        Some(d) if !d.is_empty() => {
            let dir = Path::new(std::ffi::OsStr::from_bytes(&d));
            credential_file(env, &dir.join(NAME), answers)
        }
        _ => None,
    }
}

/// A credential file holds exactly the value: no trailing newline (systemd's rule). One that
/// cannot be read was not imported, so it holds nothing.
fn credential_file(env: &Environment, rel: &Path, answers: &mut Answers) -> Held {
    let path = env.roots().host_join(rel);
    match read::read_host(env.roots(), rel, ID_FILE_MAX) {
        Ok(Some(v)) => Some((v, format!("credential {NAME} ({})", path.display()))),
        Ok(None) => None,
        Err(e) => {
            answers.push(Answer::rejected(format_args!(
                "credential {}: {e}",
                path.display()
            )));
            None
        }
    }
}

/// SMBIOS type 11 ("OEM strings") entries, as `-smbios type=11,value=…` or a VMM sets them.
fn smbios(env: &Environment, answers: &mut Answers) -> Held {
    let dir = env.roots().open_host(DMI_ENTRIES, true).ok()?;
    let entries = nix::dir::Dir::from_fd(dir.into()).ok()?;
    let mut instances: Vec<(u32, String)> = entries
        .into_iter()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_str().ok()?.to_string();
            let n = name.strip_prefix("11-")?.parse().ok()?;
            Some((n, name))
        })
        .collect();
    instances.sort();
    for (_, name) in instances {
        let rel = Path::new(DMI_ENTRIES).join(&name).join("raw");
        let path = env.roots().host_join(&rel);
        let bytes = match read::read_host(env.roots(), &rel, BLOB_MAX) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                answers.push(Answer::rejected(format_args!(
                    "SMBIOS entry {}: {e}",
                    path.display()
                )));
                continue;
            }
        };
        if let Some(v) = smbios_type11_strings(&bytes)
            .into_iter()
            .find_map(|s| s.strip_prefix(SMBIOS_PREFIX))
        {
            let origin = format!("credential {NAME} (SMBIOS OEM string, {})", path.display());
            return Some((v.to_vec(), origin));
        }
    }
    None
}

/// The strings of one raw SMBIOS type 11 structure: a formatted header (type 11, its length,
/// handle, count) followed by NUL-terminated strings and a final empty one. Malformed input
/// yields what could be read, never a panic.
pub fn smbios_type11_strings(raw: &[u8]) -> Vec<&[u8]> {
    if raw.len() < 5 || raw[0] != 11 {
        return Vec::new();
    }
    let header = raw[1] as usize;
    if header < 5 || header > raw.len() {
        return Vec::new();
    }
    raw[header..]
        .split(|&b| b == 0)
        .take_while(|s| !s.is_empty())
        .collect()
}

fn cmdline(env: &Environment) -> Held {
    let words = env.cmdline()?;
    let prefix = format!("{NAME}:");
    let value =
        proc::cmdline_values(words, CMDLINE_KEY).find_map(|v| v.strip_prefix(prefix.as_bytes()))?;
    let origin = format!("credential {NAME} (systemd.set_credential= on the kernel command line)");
    Some((value.to_vec(), origin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A type 11 structure as firmware lays it out.
    fn entry(strings: &[&[u8]]) -> Vec<u8> {
        let mut v = vec![11u8, 5, 0x00, 0x11, strings.len() as u8];
        for s in strings {
            v.extend_from_slice(s);
            v.push(0);
        }
        v.push(0);
        if strings.is_empty() {
            v.push(0);
        }
        v
    }

    #[test]
    fn parses_strings() {
        let raw = entry(&[b"foo", b"io.systemd.credential:system.machine_id=abc"]);
        assert_eq!(
            smbios_type11_strings(&raw),
            vec![
                &b"foo"[..],
                &b"io.systemd.credential:system.machine_id=abc"[..]
            ]
        );
        assert!(smbios_type11_strings(&entry(&[])).is_empty());
    }

    #[test]
    fn rejects_other_types_and_bad_headers() {
        let mut raw = entry(&[b"foo"]);
        raw[0] = 1;
        assert!(smbios_type11_strings(&raw).is_empty());
        assert!(smbios_type11_strings(&[11, 200, 0, 0, 1, b'a', 0]).is_empty());
        assert!(smbios_type11_strings(&[11, 4, 0, 0]).is_empty());
        // Shorter than a header: nothing, and no index past the end.
        for short in [&[][..], &[11], &[11, 5], &[11, 5, 0, 0]] {
            assert!(smbios_type11_strings(short).is_empty(), "{short:?}");
        }
        // A longer formatted area (newer SMBIOS) still finds the strings after it.
        assert_eq!(
            smbios_type11_strings(&[11, 6, 0, 0, 1, 9, b'x', 0, 0]),
            vec![&b"x"[..]]
        );
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = smbios_type11_strings(&bytes);
        }

        #[test]
        fn strings_round_trip(strings in proptest::collection::vec("[ -~]{1,40}", 1..6)) {
            let refs: Vec<&[u8]> = strings.iter().map(|s| s.as_bytes()).collect();
            let raw = entry(&refs);
            prop_assert_eq!(smbios_type11_strings(&raw), refs);
        }
    }
}

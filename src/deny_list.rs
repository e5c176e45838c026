//! Firmware UUIDs that are not ids (SPEC §3): all zero, all FF, all bytes equal, the known
//! placeholders that many machines share (a table here, one fixture per entry), and a site's own
//! entries in `usr/lib/machine-id-init/deny.d/*.conf` and `etc/machine-id-init/deny.d/*.conf`
//! of the root. Every entry matches in both byte orders: tools and firmware disagree on the order
//! of the first three fields before SMBIOS 2.6. Applies to the `vm` and `firmware` sources only.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use log::{debug, info};

use crate::machine_id::MachineId;
use crate::read;
use crate::roots::{DEV_NULL, Roots};

/// The drop-in directories, lowest priority first: a file in `etc` replaces the same-named one
/// in `usr/lib`.
const USR_DROP_INS: &str = "usr/lib/machine-id-init/deny.d";
/// In [`crate::roots::OWN_DIR`]: `etc/machine-id-init/deny.d`.
const ETC_DROP_INS: &str = "deny.d";
/// A drop-in larger than this is logged and ignored.
pub const DROP_IN_MAX: usize = 64 << 10;

/// Why a candidate id was refused.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Rejection {
    Zero,
    AllOnes,
    AllBytesEqual,
    /// On the table below: what it is.
    Placeholder(&'static str),
    /// On a site's drop-in: which file and line.
    Site(String),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Zero => f.write_str("it is all zero"),
            Rejection::AllOnes => f.write_str("it is all FF"),
            Rejection::AllBytesEqual => f.write_str("all its bytes are equal"),
            Rejection::Placeholder(what) => write!(f, "it is a known placeholder ({what})"),
            Rejection::Site(at) => write!(f, "it is on the site's deny-list ({at})"),
        }
    }
}

enum Match {
    Exact(&'static str),
    Prefix(&'static str),
}

struct Entry {
    matches: Match,
    what: &'static str,
}

/// Firmware UUIDs that many machines share. Lowercase dashed form, as the kernel prints them.
/// One fixture per entry (`fixtures/src-vm-deny-*`).
const DENY_LIST: &[Entry] = &[
    Entry {
        matches: Match::Exact("03000200-0400-0500-0006-000700080009"),
        what: "AMI BIOS default, shipped unchanged by many boards",
    },
    Entry {
        matches: Match::Exact("00020003-0004-0005-0006-000700080009"),
        what: "AMI BIOS default, read with the other byte order",
    },
    Entry {
        matches: Match::Exact("12345678-1234-5678-90ab-cddeefaabbcc"),
        what: "firmware template default",
    },
    Entry {
        matches: Match::Exact("ffffff00-ffff-ffff-ffff-ffffffffffff"),
        what: "unprogrammed firmware",
    },
    Entry {
        matches: Match::Exact("31393138-3538-5a43-3135-353130323750"),
        what: "serial number copied into the UUID by a vendor, shared by a batch",
    },
    Entry {
        matches: Match::Exact("5c4606fa-192f-453a-b299-7b088c63bb9b"),
        what: "UUID shared by a batch of boards",
    },
    Entry {
        matches: Match::Exact("00000000-0000-0000-0807-060504030201"),
        what: "counting-bytes placeholder",
    },
    Entry {
        matches: Match::Exact("4c4c4544-0000-2010-8020-80c04f202020"),
        what: "Dell default with an empty service tag",
    },
    Entry {
        matches: Match::Exact("11111111-2222-3333-4444-555555555555"),
        what: "counting-digits placeholder",
    },
    Entry {
        matches: Match::Exact("4c4c4544-0020-2010-8020-a0c04f202020"),
        what: "Dell board with a blank service tag",
    },
    Entry {
        matches: Match::Exact("a023157c-f692-11de-977c-7f0f26276f33"),
        what: "UUID shared by a batch of boards",
    },
    Entry {
        matches: Match::Exact("00010203-0405-0607-0809-0a0b0c0d0e0f"),
        what: "counting-bytes placeholder",
    },
    Entry {
        matches: Match::Exact("deadbeef-dead-beef-dead-beefdeadbeef"),
        what: "debugging placeholder",
    },
    Entry {
        matches: Match::Prefix("00000000-0000-0000-0000-"),
        what: "mostly-zero UUID",
    },
];

/// Every deny-listed exact UUID (the table is the single source; tests iterate over it).
pub fn exact_entries() -> impl Iterator<Item = &'static str> {
    DENY_LIST.iter().filter_map(|p| match p.matches {
        Match::Exact(u) => Some(u),
        Match::Prefix(_) => None,
    })
}

/// A site's entry: a whole UUID, or the start of a dashed one (lowercase).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pattern {
    Exact(MachineId),
    Prefix(String),
}

/// The deny-list in force: the table, and the site's drop-ins of one root.
#[derive(Debug, Default)]
pub struct DenyList {
    site: Vec<(Pattern, String)>,
}

impl DenyList {
    /// Read the root's drop-ins (SPEC §3): every `*.conf` in the two directories, the `etc`
    /// one replacing a same-named `usr/lib` one, an empty file or a link to `/dev/null` masking
    /// it; files in name order. A malformed line is logged as `FILE:LINE: …` and skipped.
    pub fn load(roots: &Roots) -> DenyList {
        let mut files: BTreeMap<std::ffi::OsString, PathBuf> = BTreeMap::new();
        let etc = match roots.own_dir_exists() {
            true => roots.in_own_dir(ETC_DROP_INS),
            false => Err(std::io::ErrorKind::NotFound.into()),
        };
        for dir in [roots.in_root(USR_DROP_INS), etc] {
            // Most roots have neither directory: resolving told already.
            let Some(resolved) = dir.ok().filter(|r| r.meta.is_some()) else {
                continue;
            };
            let Ok(entries) = std::fs::read_dir(&resolved.path) else {
                continue;
            };
            for e in entries.flatten() {
                let name = e.file_name();
                if Path::new(&name).extension().is_some_and(|x| x == "conf") {
                    files.insert(name, e.path());
                }
            }
        }
        let mut list = DenyList::default();
        for path in files.values() {
            list.read_drop_in(path);
        }
        list
    }

    fn read_drop_in(&mut self, path: &Path) {
        // A link's target as written, never opened: the `/dev/null` of systemd's masking.
        if std::fs::read_link(path).is_ok_and(|t| t == Path::new(DEV_NULL)) {
            debug!("{} is masked.", path.display());
            return;
        }
        let bytes = match read::read_whole(path, DROP_IN_MAX) {
            Ok(Some(b)) => b,
            Ok(None) => return,
            Err(e) => {
                info!("Ignoring {}: {e}.", path.display());
                return;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{}:{}", path.display(), i + 1);
            match parse_pattern(line) {
                Some(p) => self.site.push((p, at)),
                None => info!(
                    "{at}: ignoring {}: not a UUID, nor the start of a dashed one followed by '*'.",
                    read::escape(line.as_bytes())
                ),
            }
        }
    }

    /// Why a firmware UUID (SMBIOS, device tree, Xen) is not a usable id, if it is not. Ids from
    /// other sources are refused only when all zero (SPEC §3).
    pub fn rejection(&self, id: &MachineId) -> Option<Rejection> {
        let b = id.as_bytes();
        if id.is_null() {
            return Some(Rejection::Zero);
        }
        if b.iter().all(|&x| x == 0xff) {
            return Some(Rejection::AllOnes);
        }
        if b.iter().all(|&x| x == b[0]) {
            return Some(Rejection::AllBytesEqual);
        }
        [*id, swapped(id)].iter().find_map(|id| {
            let dashed = id.dashed();
            DENY_LIST
                .iter()
                .find(|p| match p.matches {
                    Match::Exact(u) => dashed == u,
                    Match::Prefix(pre) => dashed.starts_with(pre),
                })
                .map(|p| Rejection::Placeholder(p.what))
                .or_else(|| {
                    self.site
                        .iter()
                        .find(|(p, _)| match p {
                            Pattern::Exact(e) => e == id,
                            Pattern::Prefix(pre) => dashed.starts_with(pre.as_str()),
                        })
                        .map(|(_, at)| Rejection::Site(at.clone()))
                })
        })
    }
}

/// The UUID with its first three fields byte-swapped: how the other SMBIOS order reads it.
pub fn swapped(id: &MachineId) -> MachineId {
    let mut b = *id.as_bytes();
    b[0..4].reverse();
    b[4..6].reverse();
    b[6..8].reverse();
    MachineId::from_bytes(b)
}

/// A UUID in either form and any case, or the start of a dashed UUID followed by `*`.
fn parse_pattern(line: &str) -> Option<Pattern> {
    if let Some(prefix) = line.strip_suffix('*') {
        let ok = !prefix.is_empty()
            && prefix.len() < 36
            && prefix.bytes().enumerate().all(|(i, c)| match i {
                8 | 13 | 18 | 23 => c == b'-',
                _ => c.is_ascii_hexdigit(),
            });
        return ok.then(|| Pattern::Prefix(prefix.to_ascii_lowercase()));
    }
    MachineId::parse(line.as_bytes()).map(Pattern::Exact)
}

/// The table alone, for callers without a root (and the tests).
pub fn rejection(id: &MachineId) -> Option<Rejection> {
    DenyList::default().rejection(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_rejected_in_both_byte_orders() {
        let mut n = 0;
        for u in exact_entries() {
            let id = MachineId::parse(u.as_bytes()).unwrap();
            for form in [id, swapped(&id)] {
                assert!(
                    matches!(rejection(&form), Some(Rejection::Placeholder(_))),
                    "{u} as {}",
                    form.dashed()
                );
            }
            n += 1;
        }
        assert_eq!(
            n,
            DENY_LIST.len() - 1,
            "every entry but the prefix one is exact"
        );
        let mostly_zero = MachineId::parse(b"00000000-0000-0000-0000-000000000001").unwrap();
        assert!(matches!(
            rejection(&mostly_zero),
            Some(Rejection::Placeholder(_))
        ));
        let f = MachineId::parse(&[b'f'; 32]).unwrap();
        assert_eq!(rejection(&f), Some(Rejection::AllOnes));
        let same = MachineId::parse(&[b'a'; 32]).unwrap();
        assert_eq!(rejection(&same), Some(Rejection::AllBytesEqual));
        let zero = MachineId::from_bytes([0; 16]);
        assert_eq!(rejection(&zero), Some(Rejection::Zero));
        let good = MachineId::parse(b"4c4c4544-0000-2010-8020-80c04f202021").unwrap();
        assert_eq!(rejection(&good), None);
    }

    #[test]
    fn swapping_twice_is_the_same() {
        let id = MachineId::parse(b"00112233-4455-6677-8899-aabbccddeeff").unwrap();
        assert_eq!(
            swapped(&id).dashed(),
            "33221100-5544-7766-8899-aabbccddeeff"
        );
        assert_eq!(swapped(&swapped(&id)), id);
    }

    #[test]
    fn patterns() {
        let id = MachineId::parse(b"0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            parse_pattern("01234567-89AB-cdef-0123-456789abcdef"),
            Some(Pattern::Exact(id))
        );
        assert_eq!(
            parse_pattern("0123456789ABCDEF0123456789ABCDEF"),
            Some(Pattern::Exact(id))
        );
        assert_eq!(
            parse_pattern("4C4C4544-*"),
            Some(Pattern::Prefix("4c4c4544-".into()))
        );
        for bad in ["*", "4c4c4544x*", "4c4c4544", "{0123}", "0123-4567*", "zz*"] {
            assert_eq!(parse_pattern(bad), None, "{bad}");
        }
    }
}

//! Firmware UUIDs that are not ids (SPEC §3): all zero, all FF, all bytes equal, and the known
//! placeholders that many machines share. Applies to the `vm` and `firmware` sources only.

use std::fmt;

use crate::machine_id::MachineId;

/// Why a firmware UUID (SMBIOS, device tree, Xen) is not a usable id, if it is not: all zero,
/// all FF, all bytes equal, or on the deny-list. Ids from other sources are refused only when
/// all zero (SPEC §3).
pub fn rejection(id: &MachineId) -> Option<Rejection> {
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
    let dashed = id.dashed();
    DENY_LIST
        .iter()
        .find(|p| match p.matches {
            Match::Exact(u) => dashed == u,
            Match::Prefix(pre) => dashed.starts_with(pre),
        })
        .map(|p| Rejection::Placeholder(p.what))
}

/// Why a candidate id was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Rejection {
    Zero,
    AllOnes,
    AllBytesEqual,
    Placeholder(&'static str),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::Zero => f.write_str("it is all zero"),
            Rejection::AllOnes => f.write_str("it is all FF"),
            Rejection::AllBytesEqual => f.write_str("all its bytes are equal"),
            Rejection::Placeholder(what) => write!(f, "it is a known placeholder ({what})"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_rejected() {
        let mut n = 0;
        for u in exact_entries() {
            let id = MachineId::parse(u.as_bytes()).unwrap();
            assert!(
                matches!(rejection(&id), Some(Rejection::Placeholder(_))),
                "{u}"
            );
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
}

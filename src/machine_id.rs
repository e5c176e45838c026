//! The machine id, systemd's grammar for it, and the states of `/etc/machine-id` (SPEC §2).

use std::fmt;
use std::io;

use uuid::Uuid;

/// A 128-bit machine id. Always non-zero once it leaves a source.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct MachineId(Uuid);

impl MachineId {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        MachineId(Uuid::from_bytes(bytes))
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    pub fn is_null(&self) -> bool {
        self.0.is_nil()
    }

    /// systemd's `sd_id128_from_string`: exactly 32 hex digits, or the 8-4-4-4-12 dashed form,
    /// in any case, with nothing before or after.
    pub fn parse(s: &[u8]) -> Option<Self> {
        match s.len() {
            32 => parse_hex(s),
            36 => Self::parse_dashed(s),
            _ => None,
        }
    }

    /// Only the dashed UUID form, as firmware files must hold.
    pub fn parse_dashed(s: &[u8]) -> Option<Self> {
        if s.len() != 36 || [8, 13, 18, 23].iter().any(|&i| s[i] != b'-') {
            return None;
        }
        let plain: Vec<u8> = s.iter().copied().filter(|&b| b != b'-').collect();
        if plain.len() != 32 {
            return None;
        }
        parse_hex(&plain)
    }

    /// 128 bits from the kernel's random source, made a v4 UUID (as systemd's
    /// `sd_id128_randomize` does).
    pub fn random() -> io::Result<Self> {
        let mut bytes = [0u8; 16];
        let mut filled = 0;
        while filled < bytes.len() {
            let want = bytes.len() - filled;
            // SAFETY: the pointer and length describe the unfilled tail of `bytes`.
            let n = unsafe { nix::libc::getrandom(bytes[filled..].as_mut_ptr().cast(), want, 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            filled += n as usize;
        }
        Ok(MachineId(
            uuid::Builder::from_random_bytes(bytes).into_uuid(),
        ))
    }

    /// What goes into the file: 32 lowercase hex digits and a newline.
    pub fn file_contents(&self) -> [u8; 33] {
        let mut out = [b'\n'; 33];
        self.0.as_simple().encode_lower(&mut out[..32]);
        out
    }

    pub fn dashed(&self) -> String {
        self.0.hyphenated().to_string()
    }
}

impl fmt::Display for MachineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.as_simple())
    }
}

fn parse_hex(s: &[u8]) -> Option<MachineId> {
    let mut bytes = [0u8; 16];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        bytes[i] = (hex_digit(pair[0])? << 4) | hex_digit(pair[1])?;
    }
    Some(MachineId::from_bytes(bytes))
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// What `<root>/etc/machine-id` holds, classified as systemd's `id128_read_fd` does.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum FileState {
    Missing,
    Empty,
    /// `uninitialized`: systemd's first-boot marker.
    FirstBootMarker,
    /// 32 zero digits: every consumer reads it as unset.
    Zero,
    /// Anything else, with what was read (at most 38 bytes).
    Invalid(Vec<u8>),
    Initialized(MachineId),
}

impl FileState {
    /// `head` is at most [`crate::read::ID_FILE_MAX`] bytes of the file.
    pub fn classify(head: &[u8]) -> FileState {
        match head {
            [] => FileState::Empty,
            b"uninitialized" | b"uninitialized\n" => FileState::FirstBootMarker,
            _ => {
                let digits = head.strip_suffix(b"\n").unwrap_or(head);
                match (digits.len(), parse_hex_checked(digits)) {
                    (32, Some(id)) if id.is_null() => FileState::Zero,
                    (32, Some(id)) => FileState::Initialized(id),
                    _ => FileState::Invalid(head.to_vec()),
                }
            }
        }
    }

    /// States systemd treats as its first boot.
    pub fn is_first_boot(&self) -> bool {
        matches!(self, FileState::Missing | FileState::FirstBootMarker)
    }
}

fn parse_hex_checked(s: &[u8]) -> Option<MachineId> {
    if s.len() == 32 { parse_hex(s) } else { None }
}

impl fmt::Display for FileState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileState::Missing => f.write_str("missing"),
            FileState::Empty => f.write_str("empty"),
            FileState::FirstBootMarker => f.write_str("\"uninitialized\""),
            FileState::Zero => f.write_str("all zero"),
            FileState::Invalid(b) => write!(f, "invalid ({})", crate::read::escape(b)),
            FileState::Initialized(id) => write!(f, "initialized ({id})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ID: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn grammar() {
        let id = MachineId::parse(ID.as_bytes()).unwrap();
        assert_eq!(id.to_string(), ID);
        assert_eq!(
            MachineId::parse(b"01234567-89AB-cdef-0123-456789ABCDEF"),
            Some(id)
        );
        for bad in [
            &b"{01234567-89ab-cdef-0123-456789abcdef}"[..],
            b"0123456789abcdef0123456789abcde",
            b"0123456789abcdef0123456789abcdeg",
            b"0123456789abcdef0123456789abcdef\n",
            b" 0123456789abcdef0123456789abcdef",
            b"01234567-89abcdef-0123-456789abcdef",
            b"0123456789ab-cdef-0123-456789abcdef",
            b"01234567-89ab-cdef-0123-456789abcde-",
            b"urn:uuid:01234567-89ab-cdef-0123-456789abcdef",
            b"",
        ] {
            assert_eq!(MachineId::parse(bad), None, "{}", bad.escape_ascii());
        }
        assert_eq!(MachineId::parse_dashed(ID.as_bytes()), None);
    }

    #[test]
    fn file_states() {
        let id = MachineId::parse(ID.as_bytes()).unwrap();
        assert_eq!(FileState::classify(b""), FileState::Empty);
        assert_eq!(
            FileState::classify(b"uninitialized"),
            FileState::FirstBootMarker
        );
        assert_eq!(
            FileState::classify(b"uninitialized\n"),
            FileState::FirstBootMarker
        );
        assert_eq!(
            FileState::classify(ID.as_bytes()),
            FileState::Initialized(id)
        );
        let upper = format!("{}\n", ID.to_uppercase());
        assert_eq!(
            FileState::classify(upper.as_bytes()),
            FileState::Initialized(id)
        );
        assert_eq!(FileState::classify(&[b'0'; 32]), FileState::Zero);
        for bad in [
            &b"Uninitialized"[..],
            b"uninitialized\n\n",
            b"0123456789abcdef0123456789abcdef\r\n",
            b"0123456789abcdef0123456789abcdef\n\n",
            b"01234567-89ab-cdef-0123-456789abcdef",
            b"0123456789abcdef0123456789abcdef ",
            b"\n",
            b"0123456789abcdef0123456789abcde\0",
            b"0123456789abcdef\n0123456789abcdef",
        ] {
            assert!(
                matches!(FileState::classify(bad), FileState::Invalid(_)),
                "{}",
                bad.escape_ascii()
            );
        }
    }

    #[test]
    fn file_contents_are_lowercase_with_newline() {
        let id = MachineId::parse(b"0123456789ABCDEF0123456789ABCDEF").unwrap();
        assert_eq!(&id.file_contents()[..], format!("{ID}\n").as_bytes());
    }

    #[test]
    fn random_is_v4() {
        let a = MachineId::random().unwrap();
        let b = MachineId::random().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[6] >> 4, 4);
        assert_eq!(a.as_bytes()[8] & 0xc0, 0x80);
    }

    proptest! {
        #[test]
        fn classify_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = FileState::classify(&bytes);
            let _ = MachineId::parse(&bytes);
            let _ = MachineId::parse_dashed(&bytes);
        }

        #[test]
        fn ids_round_trip(bytes in any::<[u8; 16]>()) {
            let id = MachineId::from_bytes(bytes);
            let text = id.file_contents();
            prop_assert_eq!(MachineId::parse(&text[..32]), Some(id));
            prop_assert_eq!(MachineId::parse_dashed(id.dashed().as_bytes()), Some(id));
            prop_assert_eq!(MachineId::parse(id.dashed().to_uppercase().as_bytes()), Some(id));
            let state = FileState::classify(&text);
            if id.is_null() {
                prop_assert_eq!(state, FileState::Zero);
            } else {
                prop_assert_eq!(state, FileState::Initialized(id));
            }
        }
    }
}

//! The origin record's fingerprint (SPEC §9): the first 16 bytes of HMAC-SHA256 keyed with the
//! machine id, over `machine-id-init origin v1` and the source's 16 UUID bytes. It lets a later
//! boot tell whether today's UUID is the one the id was set from, without the record holding the
//! UUID (which `/sys` keeps root-only).

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::machine_id::MachineId;

const CONTEXT: &[u8] = b"machine-id-init origin v1";

pub fn fingerprint(id: &MachineId, uuid: &MachineId) -> [u8; 16] {
    // HMAC pads a key shorter than SHA-256's 64-byte block with zeros: the same MAC, with no
    // length check that could fail.
    let mut key = [0u8; 64];
    key[..16].copy_from_slice(id.as_bytes());
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&key.into());
    mac.update(CONTEXT);
    mac.update(uuid.as_bytes());
    let full = mac.finalize().into_bytes();
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer() {
        // Computed independently: python3 -c "import hmac,hashlib; print(hmac.new(bytes(range(16)),
        // b'machine-id-init origin v1' + bytes(range(16,32)), hashlib.sha256).hexdigest()[:32])"
        let id = MachineId::from_bytes(core::array::from_fn(|i| i as u8));
        let uuid = MachineId::from_bytes(core::array::from_fn(|i| 16 + i as u8));
        let hex: String = fingerprint(&id, &uuid)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, KNOWN);
        assert_ne!(fingerprint(&uuid, &id), fingerprint(&id, &uuid));
    }

    const KNOWN: &str = "a35dcbcc4cfdfdab749ef0847b3f3fdd";
}

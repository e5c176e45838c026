//! 128 random bits from the kernel, as a v4 UUID: the last resort, as in systemd.

use log::error;

use super::Lookup;
use crate::machine_id::MachineId;

pub fn lookup() -> Lookup {
    match MachineId::random() {
        Ok(id) => Lookup::Id(id, "the kernel's random source".into()),
        Err(e) => {
            error!("Failed to get random bytes from the kernel: {e}.");
            Lookup::Nothing
        }
    }
}

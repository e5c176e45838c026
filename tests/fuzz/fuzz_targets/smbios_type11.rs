//! The SMBIOS type 11 parser: never panics, and every string it yields is NUL-free, non-empty
//! and inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use machine_id_init::sources::credential::smbios_type11_strings;

fuzz_target!(|data: &[u8]| {
    for s in smbios_type11_strings(data) {
        assert!(!s.is_empty() && !s.contains(&0));
        assert!(s.len() <= data.len());
    }
});

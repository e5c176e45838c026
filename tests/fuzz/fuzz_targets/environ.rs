//! The environ parser: never panics, and a found value is a slice of the input without NULs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use machine_id_init::proc::environ_get;

fuzz_target!(|data: &[u8]| {
    for key in ["container", "container_uuid", "CREDENTIALS_DIRECTORY", ""] {
        if let Some(v) = environ_get(data, key) {
            assert!(!v.contains(&0));
            assert!(v.len() < data.len());
        }
    }
});

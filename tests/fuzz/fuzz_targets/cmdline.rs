//! The kernel command line parser: never panics, words hold no unquoted blanks, and values are
//! found only for the key asked for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use machine_id_init::proc::{cmdline_values, cmdline_words};

fuzz_target!(|data: &[u8]| {
    let words = cmdline_words(data);
    let total: usize = words.iter().map(Vec::len).sum();
    assert!(total <= data.len());
    for key in ["systemd.machine_id", "systemd.set_credential"] {
        for v in cmdline_values(&words, key) {
            assert!(v.len() < data.len());
        }
    }
});

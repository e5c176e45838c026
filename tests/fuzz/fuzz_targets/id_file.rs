//! The id grammar and the file-state reader: never panic, and whatever is initialized reads
//! back as the same id from what the tool would write.
#![no_main]

use libfuzzer_sys::fuzz_target;
use machine_id_init::machine_id::{FileState, MachineId};

fuzz_target!(|data: &[u8]| {
    let head = &data[..data.len().min(38)];
    if let FileState::Initialized(id) = FileState::classify(head) {
        assert!(!id.is_null());
        assert_eq!(
            FileState::classify(&id.file_contents()),
            FileState::Initialized(id)
        );
    }
    if let Some(id) = MachineId::parse(data) {
        assert_eq!(MachineId::parse(id.dashed().as_bytes()), Some(id));
        let _ = machine_id_init::deny_list::rejection(&id);
    }
    if let Some(id) = MachineId::parse_dashed(data) {
        assert_eq!(data.len(), 36);
        assert_eq!(MachineId::parse(data), Some(id));
    }
});

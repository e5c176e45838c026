#![no_main]

use std::ffi::{c_char, c_int};
use std::io::Write;

use machine_id_init::cli::{self, Command, HELP};
use machine_id_init::roots::{self, Roots};

const SUCCESS: c_int = 0;
const FAILURE: c_int = 1;
const USAGE: c_int = 2;

/// The C entry point: see `rt.rs` for why Rust's runtime start-up is skipped. The arguments
/// come from `std::env::args_os`, which glibc targets fill before `main` either way.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    machine_id_init::rt::start();
    let opts = match cli::parse(std::env::args_os().skip(1)) {
        Ok(Command::Run(o)) => o,
        Ok(Command::Help) => return say(HELP),
        Ok(Command::Version) => {
            return say(&format!("machine-id-init {}\n", env!("CARGO_PKG_VERSION")));
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "machine-id-init: {e}\nTry 'machine-id-init --help'."
            );
            return USAGE;
        }
    };
    let roots = Roots::new(&opts.root, &opts.host_root);
    machine_id_init::log::init(
        opts.log_target,
        opts.verbosity,
        &roots.host_join(roots::KMSG),
    );

    match machine_id_init::run(&opts) {
        Ok(report) => {
            if opts.print {
                // No runtime clean-up flushes stdout after a C `main`: do it here.
                let mut out = std::io::stdout();
                let _ = writeln!(out, "{}", report.id).and_then(|()| out.flush());
            }
            SUCCESS
        }
        Err(e) => {
            log::error!("{e}");
            FAILURE
        }
    }
}

fn say(text: &str) -> c_int {
    let mut out = std::io::stdout();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    SUCCESS
}

#![no_main]

use std::ffi::{OsString, c_char, c_int};
use std::io::Write;

use machine_id_init::cli::{self, Command, HELP};
use machine_id_init::detect::Environment;
use machine_id_init::log::LogTarget;
use machine_id_init::roots::{self, Roots};
use machine_id_init::{explain, shim, startup};

const SUCCESS: c_int = 0;
const FAILURE: c_int = 1;
const USAGE: c_int = 2;

/// The C entry point: see `startup.rs` for why Rust's runtime start-up is skipped. The
/// arguments come from `std::env::args_os`, which glibc targets fill before `main` either way.
#[unsafe(no_mangle)]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    startup::start();
    let pid1 = std::process::id() == 1;
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let opts = match cli::parse(args.clone(), pid1) {
        Ok(Command::Run(o)) => o,
        Ok(Command::Seal(o)) => return seal(&o),
        Ok(Command::Help) => return say(HELP),
        Ok(Command::Version) => {
            return say(&format!("machine-id-init {}\n", env!("CARGO_PKG_VERSION")));
        }
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "machine-id-init: {e}\nTry 'machine-id-init --help'."
            );
            if !pid1 {
                return USAGE;
            }
            // PID 1 must never exit (the kernel would panic, a container would stop): boot what
            // was named, without guessing at what the options meant.
            shim::exec(&cli::program_despite_usage_error(args), pid1);
            return FAILURE;
        }
    };
    let roots = Roots::new(&opts.root, &opts.host_root);
    let env = Environment::with_pid1(&roots, pid1);
    let prepared = match pid1 && roots.host_is_live() {
        true => Some(shim::prepare(&env)),
        false => None,
    };
    machine_id_init::log::init(
        opts.log_target,
        opts.verbosity,
        &roots.host_join(roots::KMSG),
        pid1,
        || env.container().is_some(),
    );
    for note in prepared.iter().flat_map(|p| &p.notes) {
        log::debug!("{note}");
    }

    let outcome = match opts.explain {
        Some(format) => explain(&opts, &env, format),
        None => machine_id_init::run_in(&opts, &env),
    };
    let code = match outcome {
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
    };
    // The shim hands over whatever happened: a machine id is never worth an unbootable system.
    match &opts.exec {
        Some(argv) => {
            shim::exec(argv, pid1);
            FAILURE
        }
        None => code,
    }
}

/// `--explain`: the report is this mode's output, printed even when a run would fail.
fn explain(
    opts: &cli::Options,
    env: &Environment,
    format: cli::Format,
) -> Result<machine_id_init::Report, machine_id_init::Error> {
    let explained = machine_id_init::explain_in(opts, env)?;
    say(&match format {
        cli::Format::Text => explain::render_text(&explained.explanation),
        cli::Format::Json => explain::render_json(&explained.explanation),
    });
    explained.outcome
}

fn seal(opts: &cli::SealOptions) -> c_int {
    machine_id_init::log::init(
        LogTarget::Stderr,
        opts.verbosity,
        std::path::Path::new(""),
        false,
        || false,
    );
    match machine_id_init::seal::seal(opts) {
        Ok(changes) => {
            let text = match changes.is_empty() {
                true => format!(
                    "{}: already sealed, nothing changed.\n",
                    opts.root.display()
                ),
                false => changes.iter().map(|c| format!("{c}\n")).collect(),
            };
            say(&text)
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

use std::io::Write;
use std::process::ExitCode;

use machine_id_init::cli::{self, Command, HELP};
use machine_id_init::roots::{self, Roots};

fn main() -> ExitCode {
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
            return ExitCode::from(2);
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
                let _ = writeln!(std::io::stdout(), "{}", report.id);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

fn say(text: &str) -> ExitCode {
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::SUCCESS
}

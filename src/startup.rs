//! Process start-up, before anything else runs. The binary uses `#![no_main]`: Rust's runtime set-up before `main` (stack
//! guard discovery through `/proc/self/maps`, signal stacks, SIGSEGV/SIGBUS handlers) costs
//! about 16 system calls, a third of a run, for nothing a boot-time one-shot needs. The two
//! parts of it that matter are done here.

use std::os::fd::IntoRawFd;
use std::os::unix::fs::OpenOptionsExt;

use crate::roots::DEV_NULL;

/// Call first thing in `main`.
pub fn start() {
    occupy_closed_standard_fds();
    // A closed pipe on stdout must give EPIPE (which we ignore), not kill us after the write.
    // SAFETY: setting a signal disposition to SIG_IGN has no preconditions.
    unsafe {
        nix::libc::signal(nix::libc::SIGPIPE, nix::libc::SIG_IGN);
    }
}

/// Put something on a closed fd 0, 1 or 2, so that no file we open later becomes fd 1 and
/// receives what we print (an initramfs may start us with them closed). `/dev/null` where it
/// exists, else the root directory as an `O_PATH` descriptor, on which every write fails.
fn occupy_closed_standard_fds() {
    let mut fds = [0, 1, 2].map(|fd| nix::libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd structures.
    if unsafe { nix::libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for p in fds.iter().filter(|p| p.revents & nix::libc::POLLNVAL != 0) {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(nix::libc::O_NOCTTY)
            .open(DEV_NULL)
            .or_else(|_| {
                std::fs::OpenOptions::new()
                    .read(true)
                    .custom_flags(nix::libc::O_PATH | nix::libc::O_DIRECTORY)
                    .open("/")
            });
        let Ok(file) = opened else { continue };
        let got = file.into_raw_fd();
        if got != p.fd {
            // SAFETY: both descriptors are ours; `p.fd` is closed, so nothing is lost.
            unsafe {
                nix::libc::dup2(got, p.fd);
                nix::libc::close(got);
            }
        }
    }
}

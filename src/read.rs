//! Bounded, non-blocking reads of files that may be hostile: a FIFO, a device, a directory or a
//! 64 MiB file where a small id file belongs must never hang the boot or eat its memory.

use std::fs::{File, FileType, Metadata};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use crate::roots::Roots;

/// Id files: systemd's `id128_read_fd` reads no more than this.
pub const ID_FILE_MAX: usize = 38;
/// DMI and hypervisor strings.
pub const STRING_MAX: usize = 4096;
/// `proc/cmdline`, `proc/1/environ`, SMBIOS entries.
pub const BLOB_MAX: usize = 1 << 20;

/// What a file that is not a regular file is, in words for a log line.
pub fn describe(ft: FileType) -> &'static str {
    if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "an unknown file type"
    }
}

/// Error for a path that exists but is not a regular file.
pub fn not_regular(meta: &Metadata) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("is {}, not a regular file", describe(meta.file_type())),
    )
}

/// Read at most `max` bytes of the regular file at `path`; `Ok(None)` when it does not exist.
pub fn read_capped(path: &Path, max: usize) -> io::Result<Option<Vec<u8>>> {
    read_opened(open_nonblocking(path), max)
}

/// Read the whole regular file at `path`, or nothing: one larger than `max` is an error saying
/// so (policy files and drop-ins are read whole or ignored, never cut short).
pub fn read_whole(path: &Path, max: usize) -> io::Result<Option<Vec<u8>>> {
    match read_capped(path, max + 1)? {
        Some(b) if b.len() > max => Err(io::Error::other(match max {
            m if m >= 1 << 20 => format!("larger than {} MiB", m >> 20),
            m => format!("larger than {} KiB", m >> 10),
        })),
        whole => Ok(whole),
    }
}

/// Read at most `max` bytes of the regular file `rel` in the host tree (symlinks resolved
/// inside it); `Ok(None)` when it does not exist.
pub fn read_host(roots: &Roots, rel: impl AsRef<Path>, max: usize) -> io::Result<Option<Vec<u8>>> {
    let file = match opened(roots.open_host(rel, false))? {
        Some(f) => f,
        None => return Ok(None),
    };
    read_until_short(file, max).map(Some)
}

/// The open is `O_NONBLOCK`, so a FIFO cannot block us; anything that is not a regular file is
/// refused before a byte is read.
fn read_opened(opened: io::Result<File>, max: usize) -> io::Result<Option<Vec<u8>>> {
    match self::opened(opened)? {
        Some(file) => read_up_to(file, max).map(Some),
        None => Ok(None),
    }
}

fn opened(opened: io::Result<File>) -> io::Result<Option<File>> {
    match opened {
        Ok(f) => regular(f).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Read at most `max` bytes, taking a read that returns less than asked as the end. That holds
/// for the regular files of the host tree (`sys`, `proc` and tmpfs files, which hand over
/// what they hold at once), and saves the one more read per file that would only return 0: the
/// ordinary boot reads five of them.
fn read_until_short(mut file: File, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; max.min(4096)];
    let mut len = 0;
    while len < max {
        if len == buf.len() {
            buf.resize(buf.len().saturating_mul(2).min(max), 0);
        }
        let asked = buf.len() - len;
        let n = match file.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        len += n;
        if n < asked {
            break;
        }
    }
    buf.truncate(len);
    Ok(buf)
}

fn open_nonblocking(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
}

/// Open a file for reading without blocking, without becoming its controlling terminal, and
/// only if it is a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    regular(open_nonblocking(path)?)
}

fn regular(file: File) -> io::Result<File> {
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(&meta));
    }
    Ok(file)
}

pub fn read_up_to(file: File, max: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(max.min(4096));
    file.take(max as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A log-safe rendering of arbitrary bytes: `"\r\n"`, `"\0"`, `"\xff"` instead of raw bytes.
pub fn escape(bytes: &[u8]) -> String {
    format!("\"{}\"", bytes.escape_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_missing() {
        let d = std::env::temp_dir().join(format!("mii-read-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("big"), vec![b'a'; 100]).unwrap();
        assert_eq!(read_capped(&d.join("big"), 38).unwrap().unwrap().len(), 38);
        assert!(read_capped(&d.join("nope"), 38).unwrap().is_none());
        let e = read_capped(&d, 38).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn until_short_reads_whole_files_and_caps() {
        let d = std::env::temp_dir().join(format!("mii-read-short-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let open = |name: &str| File::open(d.join(name)).unwrap();
        for len in [0usize, 1, 37, 38, 4095, 4096, 4097, 10_000] {
            let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            std::fs::write(d.join("f"), &bytes).unwrap();
            // Past the first buffer, across its doublings, and cut at the cap.
            assert_eq!(
                read_until_short(open("f"), 1 << 20).unwrap(),
                bytes,
                "{len}"
            );
            assert_eq!(
                read_until_short(open("f"), 38).unwrap(),
                &bytes[..len.min(38)],
                "{len}"
            );
            assert_eq!(
                read_until_short(open("f"), 5000).unwrap(),
                &bytes[..len.min(5000)]
            );
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn escape_shows_control_bytes() {
        assert_eq!(escape(b"ab\r\n\0\xff"), r#""ab\r\n\x00\xff""#);
    }
}

//! Runtime failures. Each names the path, the cause, and where it helps, what to do.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path} is not a directory: pass the OS tree to initialize with --root.")]
    RootNotDirectory { path: PathBuf },

    #[error("Failed to resolve {path}: {source}.")]
    Resolve { path: PathBuf, source: io::Error },

    #[error(
        "Refusing to touch {path}: it is {kind}, not a regular file. Replace it with a regular \
         file (or remove it) and run again."
    )]
    NotRegular { path: PathBuf, kind: &'static str },

    #[error(
        "Refusing to create {target} through the dangling symlink {link}: create the link's \
         target (or its directory) or remove the link."
    )]
    DanglingSymlink { link: PathBuf, target: PathBuf },

    #[error("Refusing to use {path}: it is {kind}, not a directory.")]
    NotDirectory { path: PathBuf, kind: &'static str },

    #[error("Failed to read {path}: {source}.")]
    Read { path: PathBuf, source: io::Error },

    #[error("No source yielded a machine ID (tried: {tried}); {path} was left as it is.")]
    NoSource { tried: String, path: PathBuf },

    #[error("Failed to create directory {path}: {source}.")]
    CreateDirectory { path: PathBuf, source: io::Error },

    #[error("Failed to lock {path}: {source}.")]
    Lock { path: PathBuf, source: io::Error },

    #[error("Failed to write {path}: {source}.")]
    Write { path: PathBuf, source: io::Error },

    #[error(
        "{path} is missing and {dir} is read-only: systemd cannot boot this system. Ship the \
         image with an empty or \"uninitialized\" etc/machine-id, or make {dir} writable."
    )]
    MissingOnReadOnly { path: PathBuf, dir: PathBuf },

    #[error(
        "Failed to bind-mount {source_path} over {target}: {source}. The id is in \
         {source_path}; pass --no-bind-mount to hand it over only there."
    )]
    BindMount {
        source_path: PathBuf,
        target: PathBuf,
        source: nix::Error,
    },

    #[error("Failed to set the SELinux context of {path}: {source}.")]
    Relabel { path: PathBuf, source: io::Error },
}

//! The image's configuration file, `<root>/etc/machine-id-init/machine-id-init.conf` (SPEC §9):
//! `key=value` lines, `#` comments. The hooks and units pass no options, so an image chooses by
//! shipping this file; the command line beats it.

use std::path::PathBuf;

use log::warn;

use crate::read;
use crate::roots::Roots;

/// In [`crate::roots::OWN_DIR`].
pub const CONFIG_NAME: &str = "machine-id-init.conf";
/// A larger file is logged and ignored.
pub const CONFIG_MAX: usize = 64 << 10;

/// What to do when the hypervisor gave this machine a new UUID (SPEC §9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnClone {
    /// No record is read or written: SPEC §2 alone.
    Keep,
    /// Record where the id came from; warn about a copy, change nothing.
    Warn,
    /// Re-identify a copy.
    Reinit,
}

impl OnClone {
    pub const WORDS: [(&'static str, OnClone); 3] = [
        ("keep", OnClone::Keep),
        ("warn", OnClone::Warn),
        ("reinit", OnClone::Reinit),
    ];

    pub fn name(self) -> &'static str {
        match self {
            OnClone::Keep => "keep",
            OnClone::Warn => "warn",
            OnClone::Reinit => "reinit",
        }
    }

    fn from_word(w: &str) -> Option<OnClone> {
        Self::WORDS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    pub on_clone: Option<OnClone>,
}

impl Config {
    /// Read the root's file; a missing one is the defaults, a bad line a warning.
    pub fn load(roots: &Roots) -> Config {
        let mut config = Config::default();
        if !roots.own_dir_exists() {
            return config;
        }
        let Ok(file) = roots.in_own_dir(CONFIG_NAME) else {
            return config;
        };
        if file.meta.is_none() {
            return config;
        }
        let path: PathBuf = file.path;
        let bytes = match read::read_capped(&path, CONFIG_MAX + 1) {
            Ok(Some(b)) if b.len() > CONFIG_MAX => {
                warn!(
                    "Ignoring {}: larger than {} KiB.",
                    path.display(),
                    CONFIG_MAX >> 10
                );
                return config;
            }
            Ok(Some(b)) => b,
            Ok(None) => return config,
            Err(e) => {
                warn!("Ignoring {}: {e}.", path.display());
                return config;
            }
        };
        for (i, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{}:{}", path.display(), i + 1);
            match line.split_once('=').map(|(k, v)| (k.trim(), v.trim())) {
                Some(("on-clone", v)) => match OnClone::from_word(v) {
                    Some(p) => config.on_clone = Some(p),
                    None => warn!("{at}: ignoring on-clone={v} (expected keep, warn or reinit)."),
                },
                Some((k, _)) => warn!("{at}: ignoring unknown key '{k}'."),
                None => warn!(
                    "{at}: ignoring {}: not key=value.",
                    read::escape(line.as_bytes())
                ),
            }
        }
        config
    }
}

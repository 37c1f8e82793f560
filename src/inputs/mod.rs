//! The user's files (prices, profiles, policy, quotas), parsed and validated. Errors name the file.

pub mod glob;
pub mod policy;
pub mod prices;
pub mod profiles;
pub mod quotas;

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
}

pub(crate) fn read_to_string(path: &Path) -> Result<String, InputError> {
    std::fs::read_to_string(path).map_err(|source| InputError::Read { path: path.to_path_buf(), source })
}

pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> InputError {
    InputError::Invalid { path: path.to_path_buf(), message: message.into() }
}

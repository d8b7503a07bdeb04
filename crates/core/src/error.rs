//! The service error: a few kinds, each mapped to a reply by ONE function per protocol.

use hopthu_store::StoreError;

/// What kind of failure, which decides the protocol answer (SMTP 4xx/5xx, IMAP NO/BAD,
/// HTTP status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is malformed or breaks a rule; retrying the same request will fail again.
    Invalid,
    /// The thing does not exist, or is not the caller's to see.
    NotFound,
    /// The thing exists but the caller may not do this.
    Forbidden,
    /// It already exists (a mailbox name, an address).
    AlreadyExists,
    /// It cannot be removed while it has children (a folder with sub-folders).
    HasChildren,
    /// A quota or size limit.
    QuotaExceeded,
    /// A passing failure (database busy, disk full); retry later.
    Temporary,
    /// A bug or corrupt data.
    Internal,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Error::new(ErrorKind::AlreadyExists, what),
            StoreError::NotFound(what) => Error::new(ErrorKind::NotFound, what),
            e if e.is_temporary() => {
                tracing::error!(error = %e, "store failure");
                Error::new(ErrorKind::Temporary, "storage temporarily unavailable")
            }
            e => {
                tracing::error!(error = %e, "store corruption");
                Error::new(ErrorKind::Internal, "internal error")
            }
        }
    }
}

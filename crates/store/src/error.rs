//! Storage errors.

/// What went wrong in the store. `Conflict` and `NotFound` are expected outcomes a caller maps
/// to a protocol answer; the others are failures to log.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{context}: {source}")]
    Io {
        context: &'static str,
        source: std::io::Error,
    },
    #[error("corrupt data: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn io(context: &'static str, source: std::io::Error) -> Self {
        StoreError::Io { context, source }
    }

    /// True when retrying later may succeed (database busy, disk full...).
    pub fn is_temporary(&self) -> bool {
        matches!(self, StoreError::Database(_) | StoreError::Io { .. })
    }
}

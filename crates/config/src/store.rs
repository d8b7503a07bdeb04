//! `[store]`: where the metadata lives.

use serde::Deserialize;

/// `[store]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawStore {
    /// `postgres://USER@HOST:PORT/DB`; absent: the embedded SQLite database under `data_dir`.
    pub url: Option<String>,
}

/// `[store]`, validated.
#[derive(Debug, Clone, Default)]
pub struct Store {
    /// The PostgreSQL database, or `None` for SQLite under `data_dir`.
    pub url: Option<String>,
}

pub(crate) fn validate(raw: RawStore, problems: &mut Vec<String>) -> Store {
    let url = raw.url.filter(|u| !u.trim().is_empty());
    if let Some(url) = &url
        && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
    {
        problems.push(format!(
            "store.url: {url:?} must be postgres://USER@HOST:PORT/DB (or absent for SQLite under data_dir)"
        ));
    }
    Store { url }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_postgres_urls_are_taken() {
        let mut problems = Vec::new();
        let ok = validate(
            RawStore {
                url: Some("postgres://hopthu@db:5432/mail".into()),
            },
            &mut problems,
        );
        assert!(problems.is_empty());
        assert_eq!(ok.url.as_deref(), Some("postgres://hopthu@db:5432/mail"));
        validate(
            RawStore {
                url: Some("mysql://x".into()),
            },
            &mut problems,
        );
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with("store.url:"), "{problems:?}");
        assert!(validate(RawStore::default(), &mut problems).url.is_none());
    }
}

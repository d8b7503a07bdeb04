//! `[directory]`: what the published directory (Đ6: `/directory`, `.json`, `.csv`, `.vcf`)
//! shows besides units and the people marked public.

use serde::Deserialize;

/// `[directory]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDirectory {
    /// Publish the head of every unit (thủ trưởng) even when the person is not marked public.
    /// Default true: a unit's head is its public face.
    pub publish_heads: Option<bool>,
}

/// The validated `[directory]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    pub publish_heads: bool,
}

impl Default for Directory {
    fn default() -> Self {
        validate(RawDirectory::default())
    }
}

pub(crate) fn validate(raw: RawDirectory) -> Directory {
    Directory {
        publish_heads: raw.publish_heads.unwrap_or(true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_published_unless_turned_off() {
        assert!(Directory::default().publish_heads);
        let off = validate(RawDirectory {
            publish_heads: Some(false),
        });
        assert!(!off.publish_heads);
    }
}

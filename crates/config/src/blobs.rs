//! `[blobs]`: where message bodies are kept. Absent (or without `url`): files under
//! `data_dir/blobs`. With `url = "s3://BUCKET"` (or `s3://BUCKET/PREFIX`): objects in an
//! S3-compatible store (AWS S3, Garage, MinIO…), reached at `endpoint`.

use serde::Deserialize;

/// `[blobs]` as written.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawBlobs {
    /// `s3://BUCKET` or `s3://BUCKET/PREFIX` (every key then starts with `PREFIX/`). Absent:
    /// files under `data_dir`.
    pub url: Option<String>,
    /// The S3 API's base URL, e.g. `http://127.0.0.1:3900` (plain `http://` is allowed, for a
    /// store on the same host or network). Absent: AWS S3 of `region`.
    pub endpoint: Option<String>,
    /// The region requests are signed for. Default `us-east-1` (AWS's, MinIO's); Garage's
    /// default is `garage` (its `s3_region`).
    pub region: Option<String>,
    /// Access key id and secret; both required with `url`.
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
}

impl std::fmt::Debug for RawBlobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawBlobs")
            .field("url", &self.url)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "…"))
            .finish()
    }
}

/// The validated `[blobs]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blobs {
    /// `None`: files under `data_dir/blobs`.
    pub s3: Option<S3>,
}

/// An S3-compatible bucket for message bodies.
#[derive(Clone, PartialEq, Eq)]
pub struct S3 {
    pub bucket: String,
    /// Without leading or trailing `/`; empty = the bucket's root.
    pub prefix: String,
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for S3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key", &self.access_key)
            .field("secret_key", &"…")
            .finish()
    }
}

/// The default region when `[blobs] region` is absent.
pub const DEFAULT_REGION: &str = "us-east-1";

/// A bucket name as S3 allows it (3–63 of `a-z 0-9 . -`, starting and ending alphanumeric).
fn is_bucket(s: &str) -> bool {
    (3..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// A key prefix: `/`-separated segments of printable ASCII other than `\`, none empty, `.`
/// or `..`.
fn is_prefix(s: &str) -> bool {
    s.len() <= 512
        && s.split('/').all(|seg| {
            !seg.is_empty()
                && seg != "."
                && seg != ".."
                && seg.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
        })
}

/// A `[blobs]` table given elsewhere than in the file (`hopthu store copy --to-blobs …`),
/// checked by the same rules: the validated value, or every problem found.
pub fn parse(raw: RawBlobs) -> Result<Blobs, Vec<String>> {
    let mut problems = Vec::new();
    let blobs = validate(raw, &mut problems);
    if problems.is_empty() {
        Ok(blobs)
    } else {
        Err(problems)
    }
}

pub(crate) fn validate(raw: RawBlobs, problems: &mut Vec<String>) -> Blobs {
    let Some(url) = raw.url else {
        for (key, set) in [
            ("endpoint", raw.endpoint.is_some()),
            ("region", raw.region.is_some()),
            ("access_key", raw.access_key.is_some()),
            ("secret_key", raw.secret_key.is_some()),
        ] {
            if set {
                problems.push(format!(
                    "blobs.{key}: only used with blobs.url (an s3:// bucket)"
                ));
            }
        }
        return Blobs::default();
    };
    let before = problems.len();
    let (bucket, prefix) = match url.trim().strip_prefix("s3://") {
        Some(rest) => {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let prefix = prefix.trim_end_matches('/');
            if !is_bucket(bucket) {
                problems.push(format!(
                    "blobs.url: {bucket:?} is not a bucket name (3 to 63 of a-z, 0-9, '.', '-')"
                ));
            }
            if !prefix.is_empty() && !is_prefix(prefix) {
                problems.push(format!(
                    "blobs.url: the prefix {prefix:?} must be '/'-separated names of printable ASCII"
                ));
            }
            (bucket.to_string(), prefix.to_string())
        }
        None => {
            problems.push(format!(
                "blobs.url: {url:?} must be \"s3://BUCKET\" or \"s3://BUCKET/PREFIX\""
            ));
            (String::new(), String::new())
        }
    };
    let endpoint = raw
        .endpoint
        .map(|e| e.trim().trim_end_matches('/').to_string());
    if let Some(e) = &endpoint {
        let rest = e
            .strip_prefix("https://")
            .or_else(|| e.strip_prefix("http://"));
        if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
            problems.push(format!(
                "blobs.endpoint: {e:?} must be an http:// or https:// URL"
            ));
        }
    }
    let region = raw
        .region
        .map(|r| r.trim().to_string())
        .unwrap_or_else(|| DEFAULT_REGION.into());
    if region.is_empty()
        || !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        problems.push(format!("blobs.region: {region:?} is not a region name"));
    }
    let mut required = |key: &str, value: Option<String>| -> String {
        match value.map(|v| v.trim().to_string()) {
            Some(v) if !v.is_empty() => v,
            _ => {
                problems.push(format!("blobs.{key}: required with blobs.url"));
                String::new()
            }
        }
    };
    let access_key = required("access_key", raw.access_key);
    let secret_key = required("secret_key", raw.secret_key);
    if problems.len() > before {
        return Blobs::default();
    }
    Blobs {
        s3: Some(S3 {
            bucket,
            prefix,
            endpoint,
            region,
            access_key,
            secret_key,
        }),
    }
}

#[cfg(test)]
mod tests {
    use crate::Config;
    use std::path::Path;

    fn problems(text: &str) -> Vec<String> {
        match Config::from_toml(text, "test", Path::new("/")) {
            Ok(_) => Vec::new(),
            Err(crate::ConfigError::Invalid(p)) => p,
            Err(e) => vec![e.to_string()],
        }
    }

    #[test]
    fn absent_means_local_files() {
        let config = Config::from_toml("", "test", Path::new("/")).unwrap();
        assert_eq!(config.blobs.s3, None);
    }

    #[test]
    fn an_s3_bucket_with_a_prefix() {
        let config = Config::from_toml(
            "[blobs]\nurl = \"s3://mail-bodies/hopthu/main/\"\nendpoint = \"http://127.0.0.1:3900/\"\naccess_key = \"GK1\"\nsecret_key = \"s\"\n",
            "test",
            Path::new("/"),
        )
        .unwrap();
        let s3 = config.blobs.s3.unwrap();
        assert_eq!(s3.bucket, "mail-bodies");
        assert_eq!(s3.prefix, "hopthu/main");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:3900"));
        assert_eq!(s3.region, super::DEFAULT_REGION);
        assert!(
            !format!("{s3:?}").contains("\"s\""),
            "the secret is not shown"
        );
    }

    #[test]
    fn every_problem_has_its_key() {
        let p = problems("[blobs]\nurl = \"https://bucket\"\nendpoint = \"ftp://x\"\n");
        assert!(p.iter().any(|p| p.starts_with("blobs.url:")), "{p:?}");
        assert!(p.iter().any(|p| p.starts_with("blobs.endpoint:")), "{p:?}");
        assert!(
            p.iter().any(|p| p.starts_with("blobs.access_key:")),
            "{p:?}"
        );
        assert!(
            p.iter().any(|p| p.starts_with("blobs.secret_key:")),
            "{p:?}"
        );
        let p = problems(
            "[blobs]\nurl = \"s3://B_ad/../x\"\naccess_key = \"a\"\nsecret_key = \"b\"\nregion = \"\"\n",
        );
        assert_eq!(
            p.iter().filter(|p| p.starts_with("blobs.url:")).count(),
            2,
            "{p:?}"
        );
        assert!(p.iter().any(|p| p.starts_with("blobs.region:")), "{p:?}");
        let p = problems("[blobs]\naccess_key = \"a\"\n");
        assert!(
            p.iter().any(|p| p.starts_with("blobs.access_key:")),
            "{p:?}"
        );
    }
}

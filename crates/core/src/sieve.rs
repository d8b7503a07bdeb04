//! Per-user Sieve scripts (RFC 5228 with fileinto, envelope, imap4flags, vacation RFC 5230,
//! body, variables, relational…): the scripts an account keeps (this file's API, shared by
//! the CLI, ManageSieve and the webmail's rules pages) and what runs them at local delivery
//! (`sieve_run.rs`).
//!
//! Scripts are compiled by sieve-rs (AGPL-3.0-only; hopthu is AGPL-3.0-or-later, so the
//! combined work is AGPL-3.0). A script is checked when it is stored: one that does not
//! compile is refused with the compiler's message, so the active script of an account always
//! compiled once; at delivery it is compiled again (microseconds) and run with limits.

use hopthu_store::{SieveChange, SievePut};

use crate::{Core, Error, ErrorKind, Principal, Result, now};

/// A script as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SieveScriptInfo {
    pub name: String,
    pub active: bool,
    /// Bytes of the script's text.
    pub size: u64,
}

/// The compiler with the limits of `[sieve]` (the script's size is checked separately).
pub(crate) fn compiler(max_script_size: u64) -> sieve::Compiler {
    sieve::Compiler::new()
        .with_max_script_size(usize::try_from(max_script_size).unwrap_or(usize::MAX))
        .with_max_string_size(16 * 1024)
        .with_max_nested_blocks(15)
        .with_max_nested_tests(15)
        .with_max_includes(3)
}

/// Extensions sieve-rs knows that delivery does not carry out (they are disabled in the
/// runtime, `sieve_run.rs`): a script requiring one is refused when stored rather than
/// failing, and so only keeping, at every delivery.
pub(crate) const UNSUPPORTED_EXTENSIONS: &[&str] = &[
    "reject",
    "ereject",
    "editheader",
    "duplicate",
    "enotify",
    "replace",
    "enclose",
    "convert",
    "extlists",
];

/// The extensions a script's `require` commands name (comments skipped; a string or a list
/// of strings after each `require`).
fn required_extensions(script: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = script;
    loop {
        // Skip comments so a commented-out require is not read.
        let lower = rest.to_ascii_lowercase();
        let Some(at) = lower.find("require") else {
            break;
        };
        let before = &rest[..at];
        let in_line_comment = before
            .rsplit('\n')
            .next()
            .is_some_and(|line| line.contains('#'));
        let in_block_comment = before.rfind("/*") > before.rfind("*/");
        rest = &rest[at + "require".len()..];
        if in_line_comment || in_block_comment {
            continue;
        }
        let end = rest.find(';').unwrap_or(rest.len());
        let args = &rest[..end];
        let mut parts = args.split('"');
        parts.next();
        while let Some(name) = parts.next() {
            out.push(name.to_ascii_lowercase());
            parts.next();
        }
        rest = &rest[end..];
    }
    out
}

/// A script name: 1–128 characters, no control characters, no `/`.
fn check_name(name: &str) -> Result<()> {
    let count = name.chars().count();
    if count == 0 || count > 128 || name.chars().any(|c| c.is_control() || c == '/') {
        return Err(Error::invalid(
            "tên bộ lọc phải có 1–128 ký tự, không có ký tự điều khiển hay \"/\" / a script name \
             has 1–128 characters, no control characters and no \"/\"",
        ));
    }
    Ok(())
}

impl Core {
    /// The caller's scripts, by name.
    pub async fn sieve_scripts(&self, who: &Principal) -> Result<Vec<SieveScriptInfo>> {
        Ok(self
            .store
            .sieve_scripts(who.account)
            .await?
            .into_iter()
            .map(|s| SieveScriptInfo {
                size: s.content.len() as u64,
                name: s.name,
                active: s.active,
            })
            .collect())
    }

    /// One of the caller's scripts, by name (NotFound).
    pub async fn sieve_script(&self, who: &Principal, name: &str) -> Result<String> {
        self.store
            .sieve_script(who.account, name)
            .await?
            .map(|s| s.content)
            .ok_or_else(|| {
                Error::not_found(format!(
                    "không có bộ lọc {name:?} / no script named {name:?}"
                ))
            })
    }

    /// Compiles with sieve-rs; Err(text of the compile error) when invalid.
    pub fn sieve_check(&self, script: &str) -> std::result::Result<(), String> {
        let (max_size, _) = self.sieve_limits();
        if script.len() as u64 > max_size {
            return Err(format!(
                "script is {} bytes, more than the {max_size} allowed",
                script.len()
            ));
        }
        compiler(max_size)
            .compile(script.as_bytes())
            .map_err(|e| e.to_string())?;
        match required_extensions(script)
            .into_iter()
            .find(|e| UNSUPPORTED_EXTENSIONS.contains(&e.as_str()))
        {
            Some(e) => Err(format!("extension {e:?} is not supported by this server")),
            None => Ok(()),
        }
    }

    /// Creates or replaces; refuses (ErrorKind::Invalid) a script that does not compile, with
    /// the compiler's message; ErrorKind::QuotaExceeded beyond `[sieve] max_script_size` /
    /// `max_scripts`.
    pub async fn sieve_put(&self, who: &Principal, name: &str, script: &str) -> Result<()> {
        check_name(name)?;
        let (max_size, max_scripts) = self.sieve_limits();
        if script.len() as u64 > max_size {
            return Err(Error::new(
                ErrorKind::QuotaExceeded,
                format!(
                    "bộ lọc quá lớn ({} byte, tối đa {max_size}) / script too large ({} bytes, at most {max_size})",
                    script.len(),
                    script.len()
                ),
            ));
        }
        self.sieve_check(script).map_err(Error::invalid)?;
        match self
            .store
            .put_sieve_script(who.account, name, script, max_scripts, now())
            .await?
        {
            SievePut::Created | SievePut::Replaced => Ok(()),
            SievePut::TooMany => Err(Error::new(
                ErrorKind::QuotaExceeded,
                format!(
                    "đã có {max_scripts} bộ lọc, tối đa cho phép / already {max_scripts} scripts, the most allowed"
                ),
            )),
        }
    }

    /// Some(name): that script becomes the only active one (NotFound if none); None: none
    /// active.
    pub async fn sieve_activate(&self, who: &Principal, name: Option<&str>) -> Result<()> {
        if self.store.activate_sieve_script(who.account, name).await? {
            Ok(())
        } else {
            Err(Error::not_found(format!(
                "không có bộ lọc {:?} / no script named {:?}",
                name.unwrap_or_default(),
                name.unwrap_or_default()
            )))
        }
    }

    /// ErrorKind::Forbidden for the active script (RFC 5804 §2.10), NotFound if absent.
    pub async fn sieve_delete(&self, who: &Principal, name: &str) -> Result<()> {
        match self.store.delete_sieve_script(who.account, name).await? {
            SieveChange::Done => Ok(()),
            SieveChange::Active => Err(Error::forbidden(
                "không xoá được bộ lọc đang dùng / the active script cannot be deleted",
            )),
            _ => Err(Error::not_found(format!(
                "không có bộ lọc {name:?} / no script named {name:?}"
            ))),
        }
    }

    /// NotFound / AlreadyExists.
    pub async fn sieve_rename(&self, who: &Principal, old: &str, new: &str) -> Result<()> {
        check_name(new)?;
        match self
            .store
            .rename_sieve_script(who.account, old, new, now())
            .await?
        {
            SieveChange::Done => Ok(()),
            SieveChange::Exists => Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("đã có bộ lọc {new:?} / a script named {new:?} exists"),
            )),
            _ => Err(Error::not_found(format!(
                "không có bộ lọc {old:?} / no script named {old:?}"
            ))),
        }
    }

    /// The account an operator's `hopthu sieve …` acts as (the CLI runs on the server, with
    /// the operator's access to its configuration): an address of an account or an alias.
    pub async fn sieve_owner(&self, address: &str) -> Result<Principal> {
        let parsed = hopthu_model::EmailAddress::parse(address.trim())
            .map_err(|e| Error::invalid(format!("{address:?}: {e}")))?;
        let account = self.resolve_local(&parsed).await?.ok_or_else(|| {
            Error::not_found(format!("không có hộp thư {address} / no mailbox {address}"))
        })?;
        let own = hopthu_model::EmailAddress::parse(&account.address)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        Ok(Principal {
            account: account.id,
            address: own,
            display_name: account.display_name,
            must_change_password: false,
            credentials: 0,
        })
    }

    /// (max_script_size bytes, max_scripts) from config `[sieve]`.
    pub fn sieve_limits(&self) -> (u64, u32) {
        (
            self.config.sieve.max_script_size,
            self.config.sieve.max_scripts,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn required_extensions_are_read_outside_comments() {
        let script = "# require \"reject\";\nrequire [\"fileinto\", \"Vacation\"];\n\
                      /* require \"editheader\"; */ require \"body\";\nkeep;";
        assert_eq!(
            super::required_extensions(script),
            vec!["fileinto", "vacation", "body"]
        );
    }

    #[test]
    fn script_names_are_checked() {
        assert!(check_name("vắng mặt").is_ok());
        assert!(check_name(&"a".repeat(128)).is_ok());
        assert!(check_name("").is_err());
        assert!(check_name(&"a".repeat(129)).is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("a\tb").is_err());
    }
}

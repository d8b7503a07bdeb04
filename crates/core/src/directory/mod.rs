//! The directory — "Danh bạ thư điện tử" (Đ6, Đ7): the organisation tree, people with their one
//! personal address, aliases, reserved names; the import of the files units send; the published
//! directory.
//!
//! - `parse`: CSV/.xlsx bytes → rows with line numbers; legacy encodings refused (pure).
//! - `files`: the column sets of the import files and what is wrong with a row (pure).
//! - `import`: addresses for every row by the rules of Đ7.3 (`hopthu_model::naming`) against
//!   everything already given, then one transaction that creates units, people, mailboxes and
//!   aliases ([`Core::plan_import`], [`Core::apply_import`]).
//! - `publish`: what the public sees ([`Core::public_directory`]).
//!
//! **Invariants**: an address once given is never handed to anyone else (the planner's
//! namespace holds every address, alias and reserved name in the store); an import writes all
//! of its rows or none.

mod files;
mod import;
mod lifecycle;
pub mod notice;
mod parse;
mod publish;
mod reorganise;
mod sweep;
mod unit_change;

pub use files::{ImportProblem, PEOPLE_COLUMNS, RowFault, UNIT_COLUMNS};
pub use hopthu_store::{AliasRecord, PersonRecord, PersonState, ReservedName, UnitRecord};
pub use import::{
    Credential, ImportApplied, ImportError, ImportPlan, ImportProgress, ImportRequest, ImportRow,
    ImportSource, MailboxKind, RowStatus,
};
pub use lifecycle::{Approved, ChangeInput, ChangeKind, ChangeView, UpdateView};
pub use parse::{MAX_FILE_BYTES, ReadError};
pub use publish::{Lookup, PublicDirectory, PublicPerson, PublicUnit};
pub use reorganise::{
    ARCHIVE_FOLDER, AliasChange, MergedUnit, PersonMove, PlannedUnit, ReorganiseApplied,
    ReorganiseError, ReorganisePlan, ReorganiseRequest, UnitFate,
};
pub use sweep::{SweepItem, SweepReport};

use hopthu_model::EmailAddress;

use crate::{AccountRecord, Core, Error, ErrorKind, Result, now};

/// The columns of a credentials sheet.
const CREDENTIALS_HEADER: &str = "unit_code,unit_name,kind,name,position,address,password";

/// A credentials sheet as CSV (UTF-8 with a BOM, so that Excel shows Vietnamese correctly; CRLF
/// line ends, RFC 4180), written by [`csv_row`].
pub fn credentials_csv<'a>(credentials: impl IntoIterator<Item = &'a Credential>) -> String {
    let mut out = String::from("\u{FEFF}");
    out.push_str(CREDENTIALS_HEADER);
    out.push_str("\r\n");
    for c in credentials {
        csv_row(
            &mut out,
            &[
                c.unit_code.as_str(),
                c.unit_name.as_str(),
                c.kind.as_str(),
                c.name.as_str(),
                c.position.as_deref().unwrap_or(""),
                c.address.as_str(),
                c.password.as_str(),
            ],
        );
    }
    out
}

/// THE CSV writer of every export (the directory, the audit log, the report, the credentials
/// sheets): one row appended to `out`, RFC 4180 (quoted when needed, CRLF) by the `csv` crate,
/// and every cell defused for spreadsheets ([`defuse_cell`]).
pub fn csv_row<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    let written = writer
        .write_record(fields.iter().map(|f| defuse_cell(f.as_ref()).into_owned()))
        .and_then(|()| writer.flush().map_err(csv::Error::from));
    let bytes = writer.into_inner().unwrap_or_default();
    match (written, String::from_utf8(bytes)) {
        (Ok(()), Ok(line)) => out.push_str(&line),
        // Writing to memory does not fail, and UTF-8 in gives UTF-8 out.
        _ => out.push_str("\r\n"),
    }
}

/// A cell that a spreadsheet would take for a formula (it begins with `=`, `+`, `-`, `@`, a TAB
/// or a CR: `=HYPERLINK(…)`, `@SUM(…)`, `-2+3`) gets a leading `'`, so Excel and LibreOffice
/// show it as text instead of evaluating it (CSV injection).
pub fn defuse_cell(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A CSV field quoted when needed (RFC 4180), not defused: for CSV the import reads back
/// (a new hire's row), never for a file a person opens.
pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

impl Core {
    /// Every unit of the directory, by id.
    pub async fn units(&self) -> Result<Vec<UnitRecord>> {
        Ok(self.store.units().await?)
    }

    /// Every person of the directory, by id.
    pub async fn people(&self) -> Result<Vec<PersonRecord>> {
        Ok(self.store.people().await?)
    }

    /// Every alias.
    pub async fn aliases(&self) -> Result<Vec<AliasRecord>> {
        Ok(self.store.aliases().await?)
    }

    /// Adds an alias `alias@domain` → `target` (an existing address of ours). The alias must
    /// not be an address, alias or reserved name already (R11). Audited as `directory.alias`
    /// by `actor` in the same transaction.
    pub async fn add_alias(
        &self,
        actor: &crate::Actor,
        alias: &str,
        target: &str,
    ) -> Result<AliasRecord> {
        let alias = self.local_address(alias)?;
        let target = self.local_address(target)?;
        // A mailbox, not another alias: delivery follows one hop only.
        if self
            .store
            .account_by_address(&target.to_string())
            .await?
            .is_none()
        {
            return Err(Error::not_found(format!("{target}: no such mailbox")));
        }
        if self
            .store
            .account_by_address(&alias.to_string())
            .await?
            .is_some()
            || self.is_reserved(alias.local()).await?
            || self
                .store
                .group_by_address(&alias.to_string())
                .await?
                .is_some()
        {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{alias} is already given"),
            ));
        }
        let record = AliasRecord {
            address: alias.to_string(),
            target: target.to_string(),
        };
        let audit = [crate::NewAudit {
            actor: actor.name.clone(),
            action: "directory.alias".into(),
            target: format!("alias:{}", record.address),
            before: None,
            after: Some(serde_json::json!({ "target": record.target }).to_string()),
        }];
        self.store.add_alias(&record, now(), &audit).await?;
        Ok(record)
    }

    /// The account mail to `rcpt` goes to: its own, or its alias's target. One hop only: an
    /// alias never points to another alias.
    pub(crate) async fn resolve_local(&self, rcpt: &EmailAddress) -> Result<Option<AccountRecord>> {
        let address = rcpt.to_string();
        if let Some(account) = self.store.account_by_address(&address).await? {
            return Ok(Some(account));
        }
        match self.store.alias_target(&address).await? {
            Some(target) => Ok(self.store.account_by_address(&target).await?),
            None => Ok(None),
        }
    }

    /// Reserves a local part so the rules never hand it out (R11). Audited as
    /// `directory.reserve` by `actor` in the same transaction.
    pub async fn reserve_name(&self, actor: &crate::Actor, local: &str, note: &str) -> Result<()> {
        let local = local.trim().to_ascii_lowercase();
        if !hopthu_model::naming::is_valid_local(&local) {
            return Err(Error::invalid(format!(
                "{local:?} is not a valid local part"
            )));
        }
        let audit = [crate::NewAudit {
            actor: actor.name.clone(),
            action: "directory.reserve".into(),
            target: format!("reserved:{local}"),
            before: None,
            after: Some(serde_json::json!({ "note": note }).to_string()),
        }];
        Ok(self
            .store
            .add_reserved_name(
                &ReservedName {
                    local,
                    note: note.to_owned(),
                },
                now(),
                &audit,
            )
            .await?)
    }

    async fn is_reserved(&self, local: &str) -> Result<bool> {
        Ok(self.config.naming.reserved.iter().any(|r| r == local)
            || self
                .store
                .reserved_names()
                .await?
                .iter()
                .any(|r| r.local == local))
    }

    /// An address of this server's domain from a full address or a bare local part.
    pub(crate) fn local_address(&self, s: &str) -> Result<EmailAddress> {
        let address = self
            .login_address(s)
            .ok_or_else(|| Error::invalid(format!("{s:?} is not an address")))?;
        if !self.is_local_domain(&address) {
            return Err(Error::invalid(format!(
                "{address} is not in this server's domain {}",
                self.config.domain
            )));
        }
        Ok(address)
    }
}

#[cfg(test)]
mod csv_tests {
    use super::*;

    #[test]
    fn rows_are_quoted_and_formulas_defused() {
        let mut out = String::new();
        csv_row(
            &mut out,
            &[
                "=HYPERLINK(\"http://x\",\"y\")",
                "+84 206",
                "-1",
                "@SUM(A1)",
                "\tx",
                "\rx",
                "Nông, Văn \"Đạt\"",
                "a=b",
                "",
            ],
        );
        assert_eq!(
            out,
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+84 206,'-1,'@SUM(A1),'\tx,\"'\rx\",\"Nông, Văn \"\"Đạt\"\"\",a=b,\r\n"
        );
    }
}

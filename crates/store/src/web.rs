//! Records of the webmail: sign-in sessions (by token hash) and per-account settings.

use hopthu_model::{AccountId, MailboxId, Uid};

use crate::{MessageRecord, Result};

/// A stored web session; the cookie carries the token, the database only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSessionRecord {
    pub token_hash: String,
    pub account_id: AccountId,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

/// Webmail preferences of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettingsRecord {
    /// `vi` or `en`.
    pub language: String,
    pub signature: String,
}

impl Default for WebSettingsRecord {
    fn default() -> Self {
        WebSettingsRecord {
            language: "vi".to_string(),
            signature: String::new(),
        }
    }
}

/// The webmail's records (part of the storage contract, [`crate::contract`]): sign-in sessions by
/// token hash, settings, and the paged message list.
#[async_trait::async_trait]
pub trait WebStore: Send + Sync {
    /// Stores a new web session (and removes expired ones).
    async fn create_web_session(&self, session: &WebSessionRecord) -> Result<()>;

    async fn web_session(&self, token_hash: &str) -> Result<Option<WebSessionRecord>>;

    /// Slides a session's expiry forward.
    async fn touch_web_session(&self, token_hash: &str, seen: i64, expires: i64) -> Result<()>;

    async fn delete_web_session(&self, token_hash: &str) -> Result<()>;

    /// Removes every web session of an account except `keep`; returns how many went.
    async fn delete_web_sessions_of(&self, account: AccountId, keep: Option<&str>) -> Result<u64>;

    /// The account's webmail settings (defaults when never saved).
    async fn web_settings(&self, account: AccountId) -> Result<WebSettingsRecord>;

    async fn set_web_settings(
        &self,
        account: AccountId,
        settings: &WebSettingsRecord,
    ) -> Result<()>;

    /// A page of a mailbox, newest first: at most `limit` messages with a UID below `before`.
    async fn messages_page(
        &self,
        mailbox: MailboxId,
        before: Option<Uid>,
        limit: u32,
    ) -> Result<Vec<MessageRecord>>;

    /// (mailbox, messages, unseen) for every mailbox of an account, without scanning messages.
    async fn mailbox_counts(&self, account: AccountId) -> Result<Vec<(MailboxId, u32, u32)>>;
}

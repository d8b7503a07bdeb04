//! Records of the webmail: sign-in sessions (by token hash) and per-account settings.

use hopthu_model::AccountId;

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

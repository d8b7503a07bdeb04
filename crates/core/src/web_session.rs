//! Webmail sign-in sessions, kept server-side: the browser holds a random token in an
//! HttpOnly cookie, the store holds only its SHA-256, with the session's CSRF token and
//! expiry. Also the password-change rules (Đ13.4) and the webmail settings.
//!
//! **Invariants**
//! - A session is honoured only while its account is active; a revoked account's sessions
//!   stop working at once (the account is re-read on every request).
//! - A password change closes every other session of the account ("sign out everywhere").

use std::net::IpAddr;

use hopthu_model::EmailAddress;
use hopthu_store::{AccountState, WebSessionRecord, WebSettingsRecord};
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::{AuthError, Core, Error, ErrorKind, Principal, Result, SignInError, now};

/// A session lives this long after its last use (8 hours: a working day).
pub const SESSION_IDLE_SECS: i64 = 8 * 3600;
/// The expiry is moved forward at most once per this many seconds (saves writes).
const TOUCH_EVERY_SECS: i64 = 300;

/// The shortest password accepted at a change.
pub const MIN_NEW_PASSWORD_LEN: usize = 10;

/// A signed-in webmail session.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub principal: Principal,
    /// Every form of this session carries this token; a request without it changes nothing.
    pub csrf_token: String,
    pub settings: WebSettings,
}

/// Webmail preferences of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSettings {
    pub language: Language,
    pub signature: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Vi,
    En,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::Vi => "vi",
            Language::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Language> {
        match s {
            "vi" => Some(Language::Vi),
            "en" => Some(Language::En),
            _ => None,
        }
    }
}

/// The longest signature kept, in characters.
const MAX_SIGNATURE: usize = 2000;

/// Why a new password is refused, with the rule in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordProblem {
    TooShort,
    NeedsLetterAndDigit,
    ContainsName,
    SameAsCurrent,
}

impl PasswordProblem {
    pub fn vi(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "Mật khẩu mới phải có ít nhất 10 ký tự.",
            PasswordProblem::NeedsLetterAndDigit => "Mật khẩu mới phải có cả chữ cái và chữ số.",
            PasswordProblem::ContainsName => "Mật khẩu mới không được chứa tên hộp thư của bạn.",
            PasswordProblem::SameAsCurrent => "Mật khẩu mới phải khác mật khẩu hiện tại.",
        }
    }

    pub fn en(&self) -> &'static str {
        match self {
            PasswordProblem::TooShort => "The new password must have at least 10 characters.",
            PasswordProblem::NeedsLetterAndDigit => {
                "The new password must contain both letters and digits."
            }
            PasswordProblem::ContainsName => "The new password must not contain your mailbox name.",
            PasswordProblem::SameAsCurrent => "The new password must differ from the current one.",
        }
    }
}

/// The strength rule shown on the change screen.
pub const PASSWORD_RULE_VI: &str = "Mật khẩu mới: ít nhất 10 ký tự, có cả chữ cái và chữ số, \
không chứa tên hộp thư, khác mật khẩu hiện tại.";
pub const PASSWORD_RULE_EN: &str = "New password: at least 10 characters, both letters and \
digits, not containing the mailbox name, different from the current password.";

/// Checks a new password against the rule (Đ13.4 asks for an immediate change; the strength
/// rule is this server's).
pub fn check_new_password(
    address: &EmailAddress,
    current: &str,
    new: &str,
) -> std::result::Result<(), PasswordProblem> {
    if new.chars().count() < MIN_NEW_PASSWORD_LEN {
        return Err(PasswordProblem::TooShort);
    }
    if !new.chars().any(char::is_alphabetic) || !new.chars().any(|c| c.is_ascii_digit()) {
        return Err(PasswordProblem::NeedsLetterAndDigit);
    }
    let local = address.to_string();
    let local = local.split('@').next().unwrap_or_default().to_lowercase();
    if local.len() >= 3 && new.to_lowercase().contains(&local) {
        return Err(PasswordProblem::ContainsName);
    }
    if new == current {
        return Err(PasswordProblem::SameAsCurrent);
    }
    Ok(())
}

/// Why a password change failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordChangeError {
    /// The current password given is wrong.
    WrongCurrent,
    /// Too many wrong passwords from this source or on this account: not even checked
    /// (the sign-in throttle, `Core::authenticate_from`).
    Throttled {
        retry_after: std::time::Duration,
    },
    Weak(PasswordProblem),
    Other(String),
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh random token (64 hex digits).
pub fn new_token() -> String {
    random_token()
}

fn random_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

impl Core {
    /// Signs in for the webmail (throttled like every protocol) and opens a session; returns
    /// the cookie token and the session.
    pub async fn open_web_session(
        &self,
        ip: IpAddr,
        login: &str,
        password: &str,
    ) -> std::result::Result<(String, WebSession), SignInError> {
        let principal = self
            .authenticate_from(ip, crate::SignInVia::Webmail, login, password)
            .await?;
        let token = random_token();
        let at = now();
        let record = WebSessionRecord {
            token_hash: token_hash(&token),
            account_id: principal.account,
            csrf_token: random_token(),
            created_at: at,
            last_seen_at: at,
            expires_at: at + SESSION_IDLE_SECS,
        };
        self.store
            .create_web_session(&record)
            .await
            .map_err(|_| SignInError::Auth(AuthError::Temporary))?;
        let settings = self
            .web_settings_of(&principal)
            .await
            .map_err(|_| SignInError::Auth(AuthError::Temporary))?;
        Ok((
            token,
            WebSession {
                principal,
                csrf_token: record.csrf_token,
                settings,
            },
        ))
    }

    /// The session a cookie token opens, or `None` (unknown, expired, account not active).
    pub async fn web_session(&self, token: &str) -> Result<Option<WebSession>> {
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = token_hash(token);
        let Some(record) = self.store.web_session(&hash).await? else {
            return Ok(None);
        };
        let at = now();
        if record.expires_at < at {
            self.store.delete_web_session(&hash).await?;
            return Ok(None);
        }
        let Some(account) = self.store.account(record.account_id).await? else {
            return Ok(None);
        };
        if account.state != AccountState::Active {
            return Ok(None);
        }
        if at - record.last_seen_at > TOUCH_EVERY_SECS {
            self.store
                .touch_web_session(&hash, at, at + SESSION_IDLE_SECS)
                .await?;
        }
        let address = EmailAddress::parse(&account.address)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        let principal = Principal {
            account: account.id,
            address,
            display_name: account.display_name,
            must_change_password: account.must_change_password,
            credentials: crate::accounts::credentials_digest(&account.password_hash),
        };
        let settings = self.web_settings_of(&principal).await?;
        Ok(Some(WebSession {
            principal,
            csrf_token: record.csrf_token,
            settings,
        }))
    }

    /// Signs out this session.
    pub async fn close_web_session(&self, token: &str) -> Result<()> {
        Ok(self.store.delete_web_session(&token_hash(token)).await?)
    }

    /// Signs out every web session of the principal ("sign out everywhere"), except `keep`.
    pub async fn close_web_sessions(&self, who: &Principal, keep: Option<&str>) -> Result<u64> {
        let keep = keep.map(token_hash);
        Ok(self
            .store
            .delete_web_sessions_of(who.account, keep.as_deref())
            .await?)
    }

    /// Changes the principal's password after checking the current one and the strength
    /// rule; clears the forced-change mark and closes the account's other web sessions. The
    /// current password is checked like a sign-in from `ip` (`Core::authenticate_from`:
    /// throttled, and written to the sign-in history), so a stolen session cannot be used to
    /// guess it.
    pub async fn change_password(
        &self,
        who: &Principal,
        ip: IpAddr,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> std::result::Result<(), PasswordChangeError> {
        match self
            .authenticate_from(
                ip,
                crate::SignInVia::Webmail,
                &who.address.to_string(),
                current,
            )
            .await
        {
            Ok(p) if p.account == who.account => {}
            Ok(_)
            | Err(SignInError::Auth(
                AuthError::InvalidCredentials
                | AuthError::Disabled
                | AuthError::Expired
                | AuthError::Delegated,
            )) => {
                return Err(PasswordChangeError::WrongCurrent);
            }
            Err(SignInError::Throttled { retry_after }) => {
                return Err(PasswordChangeError::Throttled { retry_after });
            }
            Err(SignInError::Auth(AuthError::Temporary)) => {
                return Err(PasswordChangeError::Other("temporary failure".into()));
            }
        }
        check_new_password(&who.address, current, new).map_err(PasswordChangeError::Weak)?;
        let keep = keep_session.map(token_hash);
        self.set_password_keeping(who.account, new, false, keep.as_deref())
            .await
            .map_err(|e| PasswordChangeError::Other(e.message))?;
        self.close_web_sessions(who, keep_session)
            .await
            .map_err(|e| PasswordChangeError::Other(e.message))?;
        Ok(())
    }

    pub async fn web_settings_of(&self, who: &Principal) -> Result<WebSettings> {
        let record = self.store.web_settings(who.account).await?;
        Ok(WebSettings {
            language: Language::parse(&record.language).unwrap_or(Language::Vi),
            signature: record.signature,
        })
    }

    pub async fn set_web_settings(&self, who: &Principal, settings: &WebSettings) -> Result<()> {
        let signature: String = settings
            .signature
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .take(MAX_SIGNATURE)
            .collect();
        Ok(self
            .store
            .set_web_settings(
                who.account,
                &WebSettingsRecord {
                    language: settings.language.code().to_string(),
                    signature,
                },
            )
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> EmailAddress {
        EmailAddress::parse("nvan@caobang.gov.vn").unwrap()
    }

    #[test]
    fn password_rule() {
        let a = addr();
        assert_eq!(
            check_new_password(&a, "old", "short1"),
            Err(PasswordProblem::TooShort)
        );
        assert_eq!(
            check_new_password(&a, "old", "onlyletterslong"),
            Err(PasswordProblem::NeedsLetterAndDigit)
        );
        assert_eq!(
            check_new_password(&a, "old", "1234567890"),
            Err(PasswordProblem::NeedsLetterAndDigit)
        );
        assert_eq!(
            check_new_password(&a, "old", "NVAN-2026-caobang"),
            Err(PasswordProblem::ContainsName)
        );
        assert_eq!(
            check_new_password(&a, "Hoa-An-2026x", "Hoa-An-2026x"),
            Err(PasswordProblem::SameAsCurrent)
        );
        assert_eq!(check_new_password(&a, "old", "Mùa-thu-2026"), Ok(()));
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}

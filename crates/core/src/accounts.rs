//! Accounts and sign-in: creation with the standard folders, argon2id password hashes,
//! one-time initial passwords (Đ13.4), and the record of each successful access (Đ8.3).

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, phc::PasswordHash};
use hopthu_model::{AccountId, EmailAddress};
use hopthu_store::{AccountState, NewAccount, NewAudit};
use rand::Rng;

use crate::admin::Actor;
use crate::{Core, Error, ErrorKind, Result, now};

/// The signed-in account a session acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account: AccountId,
    pub address: EmailAddress,
    pub display_name: String,
    /// The password is a one-time password that must be changed (Đ13.4).
    pub must_change_password: bool,
    /// A digest of the password hash the session signed in with: [`Core::still_valid`]
    /// compares it, so a session ends once the password is changed or reset.
    pub credentials: u64,
}

/// The digest kept in [`Principal::credentials`] (the same within one process, which is all it
/// is compared in).
pub(crate) fn credentials_digest(password_hash: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    password_hash.hash(&mut hasher);
    hasher.finish()
}

/// Why a sign-in failed. Protocols answer all of `InvalidCredentials` alike, so a client
/// cannot learn which addresses exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("account is revoked")]
    Disabled,
    /// The right one-time password, but `[lifecycle] initial_password_hours` after its first
    /// use: the unit must reset it.
    #[error("the first password has expired")]
    Expired,
    #[error("temporary failure")]
    Temporary,
    /// The right password of a unit mailbox that has delegates (Đ12): its people sign in as
    /// themselves, and its own password no longer works. Not counted as a failed sign-in by
    /// the throttle (the password was right), only recorded in the history.
    #[error("the unit mailbox is delegated: sign in with your own account")]
    Delegated,
}

/// `hopthu account add ADDRESS --name N --exception REASON`: an account that is not a person
/// of the directory (postmaster, a system or test mailbox), recorded with its reason. A person's
/// mailbox is made through the directory instead ([`Core::add_person_account`]).
#[derive(Debug, Clone)]
pub struct NewAccountRequest {
    pub address: String,
    pub display_name: String,
    /// `None` generates a one-time password, returned in [`CreatedAccount`].
    pub password: Option<String>,
    pub must_change_password: bool,
    /// Why this account is not a person of the directory (required; recorded and audited).
    pub exception: String,
}

/// `hopthu account add --unit CODE --full-name N`: a person of a unit, with the address the
/// rules of Đ7.3 give.
#[derive(Debug, Clone)]
pub struct NewPersonRequest {
    /// The unit's code.
    pub unit: String,
    pub full_name: String,
    pub position: Option<String>,
    /// The staff id, which tells a namesake of the same unit apart (without one, the same name
    /// in the same unit is the person the directory has already).
    pub staff_id: Option<String>,
    /// `None` generates a one-time password, returned in [`CreatedAccount`].
    pub password: Option<String>,
    pub must_change_password: bool,
}

#[derive(Debug, Clone)]
pub struct CreatedAccount {
    pub id: AccountId,
    pub address: EmailAddress,
    /// The generated password, to hand to its owner once; `None` when one was given.
    pub one_time_password: Option<String>,
}

/// Passwords: 8 characters at least (Đ13.4's strength rules come with the webmail).
const MIN_PASSWORD_LEN: usize = 8;

/// A chosen password checked for length, or a generated one-time password: (hash, the
/// one-time password to hand out).
pub(crate) async fn first_password(
    core: &Core,
    chosen: Option<String>,
) -> Result<(String, Option<String>)> {
    match chosen {
        Some(p) => {
            if p.chars().count() < MIN_PASSWORD_LEN {
                return Err(Error::invalid(format!(
                    "password must have at least {MIN_PASSWORD_LEN} characters"
                )));
            }
            Ok((core.hash_in_turn(p, Secret::Chosen).await?, None))
        }
        None => {
            let p = generate_password();
            Ok((
                core.hash_in_turn(p.clone(), Secret::Generated).await?,
                Some(p),
            ))
        }
    }
}

impl Core {
    /// Creates an account that is not a person of the directory, with the standard folders,
    /// recorded as an exception with its reason and audited (`account.add_exception`) in the
    /// same transaction. The address must not be in the directory's namespace: a person's, a
    /// unit's, an alias or a reserved name (`hopthu directory reserve`) is refused; the
    /// system names of `[naming] reserved` (postmaster, abuse…) are what exceptions are for.
    pub async fn create_account(
        &self,
        actor: &Actor,
        req: NewAccountRequest,
    ) -> Result<CreatedAccount> {
        let address = EmailAddress::parse(&req.address)
            .map_err(|e| Error::invalid(format!("{}: {e}", req.address)))?;
        if !address.is_in_domain(&self.config.domain) {
            return Err(Error::invalid(format!(
                "{address} is not in this server's domain {}",
                self.config.domain
            )));
        }
        let display_name = hopthu_model::text::clean(&req.display_name);
        if display_name.is_empty() {
            return Err(Error::invalid("the full name is empty"));
        }
        let reason = hopthu_model::text::clean(&req.exception);
        if reason.is_empty() {
            return Err(Error::invalid(
                "chưa nêu lý do ngoại lệ / the exception needs a reason",
            ));
        }
        self.check_outside_directory(&address).await?;
        let (password_hash, one_time_password) = first_password(self, req.password).await?;
        let at = now();
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "account.add_exception".into(),
            target: format!("account:{address}"),
            before: None,
            after: Some(
                serde_json::json!({
                    "display_name": display_name,
                    "reason": reason,
                    "must_change_password": req.must_change_password,
                })
                .to_string(),
            ),
        }];
        let id = self
            .store
            .create_exception_account(
                &NewAccount {
                    address: address.to_string(),
                    display_name,
                    password_hash,
                    must_change_password: req.must_change_password,
                    created_at: at,
                },
                crate::mail::STANDARD_FOLDERS,
                &reason,
                &actor.name,
                &audit,
            )
            .await
            .map_err(|e| match Error::from(e) {
                e if e.kind == ErrorKind::AlreadyExists => Error::new(
                    ErrorKind::AlreadyExists,
                    format!("{address} already exists"),
                ),
                e => e,
            })?;
        Ok(CreatedAccount {
            id,
            address,
            one_time_password,
        })
    }

    /// Refuses an address the directory holds: an account already, a person's or a unit's
    /// address, an alias, a name reserved with `hopthu directory reserve`, a group.
    pub(crate) async fn check_outside_directory(&self, address: &EmailAddress) -> Result<()> {
        let text = address.to_string();
        let taken = |what: &str| {
            Error::new(
                ErrorKind::AlreadyExists,
                format!("{address} already exists: {what}"),
            )
        };
        if self.store.account_by_address(&text).await?.is_some() {
            return Err(taken("một hộp thư / a mailbox"));
        }
        let local = address.local();
        let same_local = |a: &str| {
            a.rsplit_once('@').is_some_and(|(l, d)| {
                l.eq_ignore_ascii_case(local) && d.eq_ignore_ascii_case(address.domain())
            })
        };
        if self
            .store
            .people()
            .await?
            .iter()
            .any(|p| same_local(&p.address))
        {
            return Err(taken(
                "địa chỉ của một người trong danh bạ / a person's address in the directory",
            ));
        }
        if self
            .store
            .units()
            .await?
            .iter()
            .any(|u| same_local(&u.address))
        {
            return Err(taken("địa chỉ của một đơn vị / a unit's address"));
        }
        if self
            .store
            .aliases()
            .await?
            .iter()
            .any(|a| same_local(&a.address))
        {
            return Err(taken("một bí danh / an alias"));
        }
        if self
            .store
            .reserved_names()
            .await?
            .iter()
            .any(|r| r.local.eq_ignore_ascii_case(local))
        {
            return Err(taken("một tên dành riêng / a reserved name"));
        }
        if self.store.group_by_address(&text).await?.is_some() {
            return Err(taken("một nhóm thư / a group"));
        }
        Ok(())
    }

    /// Every account recorded as an exception to the directory, with its reason.
    pub async fn account_exceptions(&self) -> Result<Vec<hopthu_store::AccountException>> {
        Ok(self.store.account_exceptions().await?)
    }

    /// [`hash_password`] when a hashing turn is free (`[auth] hash_concurrency`).
    pub(crate) async fn hash_in_turn(&self, password: String, secret: Secret) -> Result<String> {
        let _turn = self.password_checks.turn().await;
        hash_password(password, secret).await
    }

    /// Number of accounts (used by the demo seed to run once).
    pub async fn account_count(&self) -> Result<u64> {
        Ok(self.store.account_count().await?)
    }

    /// Resolves a login name: a full address, or a bare local part in this server's domain.
    pub fn login_address(&self, login: &str) -> Option<EmailAddress> {
        let login = login.trim();
        if login.contains('@') {
            EmailAddress::parse(login).ok()
        } else {
            EmailAddress::parse(&format!("{login}@{}", self.config.domain)).ok()
        }
    }

    /// Checks a password and records the access. Unknown accounts cost the same time as
    /// known ones.
    pub async fn authenticate(
        &self,
        login: &str,
        password: &str,
    ) -> std::result::Result<Principal, AuthError> {
        let account = match self.login_address(login) {
            Some(address) => self
                .store
                .account_by_address(&address.to_string())
                .await
                .map_err(|_| AuthError::Temporary)?,
            None => None,
        };
        // A verification remembered from a recent sign-in skips the hash (only for an account
        // that exists: an unknown one always costs the full work).
        let tag = account.as_ref().and_then(|a| {
            self.password_checks
                .tag(&a.address, password, &a.password_hash)
        });
        let ok = if tag.is_some_and(|t| self.password_checks.remembered(&t)) {
            crate::metrics::bump(&self.metrics.password_cache_hits, 1);
            true
        } else {
            let _turn = self.password_checks.turn().await;
            crate::metrics::bump(&self.metrics.password_hashes, 1);
            let ok = verify_password(
                password.to_string(),
                account.as_ref().map(|a| a.password_hash.clone()),
            )
            .await;
            if let (true, Some(tag)) = (ok, tag) {
                self.password_checks.remember(tag);
            }
            ok
        };
        let Some(account) = account.filter(|_| ok) else {
            return Err(AuthError::InvalidCredentials);
        };
        if account.state != AccountState::Active {
            return Err(AuthError::Disabled);
        }
        // A unit mailbox with an owner (the unit's head) or delegates is used by them, each
        // signed in as themselves (Đ12, Đ13.2): its own (legacy, shared) password stops
        // working once it has either.
        if self
            .store
            .taken_over(account.id)
            .await
            .map_err(|_| AuthError::Temporary)?
        {
            return Err(AuthError::Delegated);
        }
        // An initial password not changed in time expires (SPEC §5): counted from its first
        // use, so a credentials sheet that takes days to arrive still works.
        let hours = i64::from(self.config.lifecycle.initial_password_hours);
        if account.must_change_password && hours > 0 {
            let activated = self
                .store
                .activate(account.id, now())
                .await
                .map_err(|_| AuthError::Temporary)?;
            if now() - activated > hours * 3600 {
                return Err(AuthError::Expired);
            }
        }
        let address = EmailAddress::parse(&account.address).map_err(|_| AuthError::Temporary)?;
        // At most once an hour per account (`ACCESS_RECORD_INTERVAL`), judged from the record
        // just read: a busy server's sign-ins mostly write nothing here.
        let at = now();
        if account.access_record_due(at)
            && let Err(e) = self.store.record_access(account.id, at).await
        {
            tracing::warn!(error = %e, "could not record access");
        }
        Ok(Principal {
            account: account.id,
            address,
            display_name: account.display_name,
            must_change_password: account.must_change_password,
            credentials: credentials_digest(&account.password_hash),
        })
    }

    /// Whether a signed-in session may go on: the account still exists, is active, and has the
    /// password and the address it signed in with. IMAP and POP3 sessions ask now and then and
    /// end when not, so a revocation, a password reset or a new address (the old one is an
    /// alias now, not a sign-in) reaches a phone that stays connected for days. A store error
    /// answers yes (a passing failure must not cut everyone off).
    pub async fn still_valid(&self, who: &Principal) -> bool {
        match self.store.account(who.account).await {
            Ok(Some(account)) => {
                account.state == AccountState::Active
                    && credentials_digest(&account.password_hash) == who.credentials
                    && EmailAddress::parse(&account.address).map_or(true, |a| a == who.address)
            }
            Ok(None) => false,
            Err(_) => true,
        }
    }

    /// Sets a new password (the change screen, a reset, `hopthu account password`). Every web
    /// session of the account ends with it (in the store, whatever the path); IMAP, POP3 and
    /// SMTP sessions end at their next command ([`Core::still_valid`]).
    pub async fn set_password(
        &self,
        account: AccountId,
        password: &str,
        must_change: bool,
    ) -> Result<()> {
        self.set_password_keeping(account, password, must_change, None)
            .await
    }

    /// [`Core::set_password`], keeping the web session whose token hash is `keep` (the one
    /// the owner changes the password in).
    pub(crate) async fn set_password_keeping(
        &self,
        account: AccountId,
        password: &str,
        must_change: bool,
        keep: Option<&str>,
    ) -> Result<()> {
        let hash = self.checked_password_hash(password).await?;
        Ok(self
            .store
            .set_password(account, &hash, must_change, keep)
            .await?)
    }

    /// The hash of a chosen password, refused when it is too short.
    pub(crate) async fn checked_password_hash(&self, password: &str) -> Result<String> {
        if password.chars().count() < MIN_PASSWORD_LEN {
            return Err(Error::invalid(format!(
                "password must have at least {MIN_PASSWORD_LEN} characters"
            )));
        }
        self.hash_in_turn(password.to_string(), Secret::Chosen)
            .await
    }
}

/// Hashes of a random password, one of each kind ([`Secret`]): every check computes one hash
/// of each kind, the one the account does not need against these ([`verification_plan`]).
static DUMMY_HASHES: std::sync::LazyLock<[String; 2]> = std::sync::LazyLock::new(|| {
    let password = generate_password();
    [Secret::Chosen, Secret::Generated]
        .map(|kind| hash_password_blocking(&password, kind).unwrap_or_default())
});

/// A one-time password of 14 characters from an alphabet without look-alikes (0/O, 1/l/I).
pub fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..14)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Who made the secret being hashed, which decides the argon2id cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    /// Chosen by a person: low entropy, so the full argon2id cost (19 MiB, 2 passes).
    Chosen,
    /// Generated by [`generate_password`] (about 81 bits of entropy) and valid only until the
    /// first change: stretching adds nothing against guessing, so a light argon2id (1 MiB,
    /// 1 pass) keeps a 20,000-person import to seconds. Verification reads the parameters from
    /// the stored hash, so both kinds verify alike.
    Generated,
}

/// Hashes a password with argon2id, off the async threads.
pub async fn hash_password(password: String, secret: Secret) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password_blocking(&password, secret))
        .await
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?
}

/// Hashes a password with argon2id on the calling thread (for bulk work that manages its own
/// threads).
pub fn hash_password_blocking(password: &str, secret: Secret) -> Result<String> {
    let argon2 = Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params_of(secret),
    );
    argon2
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::new(ErrorKind::Internal, format!("password hashing: {e}")))
}

/// The argon2 parameters of a hash of `secret`'s kind.
fn params_of(secret: Secret) -> argon2::Params {
    match secret {
        Secret::Chosen => argon2::Params::default(),
        Secret::Generated => {
            argon2::Params::new(1024, 1, 1, None).expect("valid argon2 parameters")
        }
    }
}

/// The kind of secret a stored hash was made for, read from its parameters (a hash that is not
/// the light kind counts as chosen).
fn secret_of(hash: &str) -> Secret {
    let light = params_of(Secret::Generated);
    match PasswordHash::new(hash)
        .ok()
        .and_then(|h| argon2::Params::try_from(&h).ok())
    {
        Some(p)
            if p.m_cost() == light.m_cost()
                && p.t_cost() == light.t_cost()
                && p.p_cost() == light.p_cost() =>
        {
            Secret::Generated
        }
        _ => Secret::Chosen,
    }
}

/// The hashes a sign-in computes for an account's stored hash (`None`: no such account), the
/// first being the one that decides. Whatever the account — a chosen password, an unused
/// one-time password (the light kind), no account at all — the work is the same: one hash of
/// each kind, the missing ones against [`DUMMY_HASHES`], so the time a refusal takes tells
/// nothing about the account.
fn verification_plan(stored: Option<String>) -> (Option<String>, Vec<String>) {
    let [chosen, generated] = DUMMY_HASHES.clone();
    match stored {
        None => (None, vec![chosen, generated]),
        Some(hash) => {
            let dummy = match secret_of(&hash) {
                Secret::Chosen => generated,
                Secret::Generated => chosen,
            };
            (Some(hash), vec![dummy])
        }
    }
}

async fn verify_password(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let (hash, dummies) = verification_plan(stored);
        let ok = hash.is_some_and(|h| verify_password_blocking(password.as_bytes(), &h));
        for dummy in &dummies {
            // Computed for its cost only.
            std::hint::black_box(verify_password_blocking(password.as_bytes(), dummy));
        }
        ok
    })
    .await
    .unwrap_or(false)
}

/// Argon2 working memory is asked for with at least this many 1 KiB blocks: more than glibc's
/// largest dynamic mmap threshold (32 MiB), so it is always a fresh mapping, returned to the
/// system when the check ends. Freeing a smaller mapping (the default 19 MiB) would raise the
/// threshold, and from then on the allocator keeps every connection's buffers in its arenas
/// (measured: 2.4 MB kept per IMAP connection instead of ~40 kB). Only the blocks the
/// parameters need are touched, so only those become resident.
const ARGON2_MIN_RESERVED_BLOCKS: usize = 33 * 1024;

/// Checks a password against its PHC string (argon2id, the parameters stored in the hash).
fn verify_password_blocking(password: &[u8], hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(parsed.algorithm.as_str()),
        argon2::Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = match parsed.version.map(argon2::Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let blocks = params.block_count();
    let argon2 = Argon2::new(algorithm, version, params);
    let mut memory: Vec<argon2::Block> = Vec::with_capacity(blocks.max(ARGON2_MIN_RESERVED_BLOCKS));
    memory.resize(blocks, argon2::Block::default());
    let expected = expected.as_ref();
    let mut computed = vec![0u8; expected.len()];
    if argon2
        .hash_password_into_with_memory(password, salt.as_ref(), &mut computed, &mut memory[..])
        .is_err()
    {
        return false;
    }
    // Constant time: every byte is compared.
    computed
        .iter()
        .zip(expected)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0
}

#[cfg(test)]
mod password_tests {
    use super::*;

    #[test]
    fn verifies_both_kinds_of_hash_and_nothing_else() {
        for secret in [Secret::Chosen, Secret::Generated] {
            let hash = hash_password_blocking("Mật khẩu đúng 1", secret).unwrap();
            assert!(verify_password_blocking(
                "Mật khẩu đúng 1".as_bytes(),
                &hash
            ));
            assert!(!verify_password_blocking(b"mat khau sai", &hash));
            assert!(!verify_password_blocking(b"", &hash));
        }
        assert!(!verify_password_blocking(b"x", "not a hash"));
        assert_eq!(
            Argon2::default().params(),
            &params_of(Secret::Chosen),
            "chosen passwords keep the default cost"
        );
        assert!(!verify_password_blocking(
            b"x",
            "$argon2id$v=19$m=19456,t=2,p=1$"
        ));
    }

    /// The argon2 parameters of every hash a check computes, sorted.
    fn work(stored: Option<String>) -> Vec<String> {
        let (hash, dummies) = verification_plan(stored);
        let mut params: Vec<String> = hash
            .into_iter()
            .chain(dummies)
            .map(|h| {
                let parsed = PasswordHash::new(&h).unwrap();
                let p = argon2::Params::try_from(&parsed).unwrap();
                format!("m={},t={},p={}", p.m_cost(), p.t_cost(), p.p_cost())
            })
            .collect();
        params.sort();
        params
    }

    #[test]
    fn every_check_does_the_same_work() {
        let chosen = hash_password_blocking("Mật khẩu đúng 1", Secret::Chosen).unwrap();
        let one_time = hash_password_blocking("abcdEFGH234567", Secret::Generated).unwrap();
        assert_eq!(secret_of(&chosen), Secret::Chosen);
        assert_eq!(secret_of(&one_time), Secret::Generated);
        let unknown = work(None);
        assert_eq!(
            unknown.len(),
            2,
            "an unknown account runs the verifications too"
        );
        assert_eq!(work(Some(chosen)), unknown);
        assert_eq!(work(Some(one_time)), unknown);
    }
}

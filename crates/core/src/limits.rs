//! Rate limits against abuse (Đ13.3), shared by every protocol of the process and, through the
//! store, by every node of the installation: connections per IP (per node: a node's own
//! sockets), recipients submitted per user per hour, success notices per address, and failed
//! sign-ins per source, per account and per account from a source (sliding windows).
//!
//! The numbers come from `[limits]`. The events are kept in the store (`RateStore`, contract
//! §14), so a source locked out on one node is locked out on every node, and a user's hourly
//! sending limit counts what they sent through any of them. Only what is in flight on this
//! node (open connections, sign-ins being checked now) is in memory.
//!
//! How a protocol uses it:
//! - on accept: [`Core::open_connection`] → keep the [`ConnectionPermit`] for the session's
//!   lifetime; `None` means refuse (`421 4.7.0` in SMTP, `* BYE` in IMAP, `-ERR` in POP3);
//! - sign-in: [`Core::authenticate_from`] instead of [`Core::authenticate`]: it refuses at once
//!   while the source (an IPv4 address or an IPv6 /64, [`source_key`]) is locked out, or the
//!   account is locked for that source ([`SignInError::Throttled`], no password check); an
//!   attempt in flight counts against its account as a failure until it turns out right (so
//!   parallel guesses cannot all pass the check: those beyond the limit wait for the earlier
//!   ones to end, then look again, so a mail client opening several connections at once is
//!   not refused), failures are recorded when they happen, and
//!   each failure is slowed down a little. An account under attack from many sources is slowed
//!   down, never locked: its owner can still sign in from elsewhere;
//! - submission: [`Core::check_send_rate`] before accepting a transaction (MAIL) and each
//!   recipient, and [`Core::record_sent`] with the recipients once a message is accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hopthu_model::AccountId;
use hopthu_store::{RateAsk, RateCount, RateEvent, RateKind};

use crate::{AuthError, Core, Principal};

/// One hour: the window of `messages_per_hour` and of success notices.
const HOUR: Duration = Duration::from_secs(3600);

/// The longest a sign-in waits for the attempts in flight before it (on the same account from
/// the same source) to end; then it is refused as throttled.
const IN_FLIGHT_WAIT: Duration = Duration::from_secs(20);
/// How often a waiting sign-in looks again when no attempt in flight has ended.
const IN_FLIGHT_TICK: Duration = Duration::from_millis(50);

/// Success notices one address may receive per hour.
pub(crate) const SUCCESS_NOTICES_PER_HOUR: usize = 60;

/// Pause added to each failed sign-in, times the failures of that IP in the window, capped by
/// [`MAX_FAILURE_DELAY`]: guessing gets slower without hurting one mistyped password.
const FAILURE_DELAY_STEP: Duration = Duration::from_millis(200);
const MAX_FAILURE_DELAY: Duration = Duration::from_secs(3);

/// The pause for `failures` failures: [`FAILURE_DELAY_STEP`] each, at most [`MAX_FAILURE_DELAY`].
fn failure_pause(failures: u64) -> Duration {
    FAILURE_DELAY_STEP
        .saturating_mul(u32::try_from(failures).unwrap_or(u32::MAX))
        .min(MAX_FAILURE_DELAY)
}

/// Now, in Unix milliseconds (the store's time for rate events).
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How long until the oldest of `count`'s events leaves a `window` (`window` when none is
/// stored: the limit was reached by attempts in flight).
fn retry_after(count: &RateCount, window: Duration, now: i64) -> Duration {
    match count.oldest {
        Some(oldest) => {
            Duration::from_millis(u64::try_from(oldest + millis(window) - now).unwrap_or(0))
        }
        None => window,
    }
}

/// The key a source address is counted under: an IPv4 address as it is, an IPv6 address by its
/// /64 (one subscriber's allocation, where every address is the same client), an IPv4-mapped
/// IPv6 address as the IPv4 address.
pub fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64))),
        },
    }
}

/// What this node holds in memory: its open connections and its sign-ins being checked now.
#[derive(Debug, Default)]
struct State {
    connections: HashMap<IpAddr, u32>,
    /// Sign-ins in flight per account ([`Core::throttle_key`]).
    checking_account: HashMap<String, u64>,
    /// Sign-ins in flight per account from a source.
    checking_pair: HashMap<(String, IpAddr), u64>,
}

/// The in-memory rate-limit state of the process (one per [`Core`]).
#[derive(Debug, Default)]
pub struct RateLimits {
    state: Arc<Mutex<State>>,
    /// Told when a sign-in stops being in flight: those waiting behind it look again.
    settled: Arc<tokio::sync::Notify>,
}

impl RateLimits {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// Connections open now, over every address.
    pub(crate) fn open_connections(&self) -> u64 {
        self.lock()
            .connections
            .values()
            .map(|&n| u64::from(n))
            .sum()
    }

    /// Counts a sign-in of `account` from `source` as in flight until the guard drops; returns
    /// the guard and how many others were in flight for the account and for the pair.
    fn checking(&self, account: &str, source: IpAddr) -> (Checking, u64, u64) {
        let mut state = self.lock();
        let by_account = state
            .checking_account
            .entry(account.to_string())
            .or_default();
        let others_account = *by_account;
        *by_account += 1;
        let by_pair = state
            .checking_pair
            .entry((account.to_string(), source))
            .or_default();
        let others_pair = *by_pair;
        *by_pair += 1;
        let guard = Checking {
            state: self.state.clone(),
            settled: Some(self.settled.clone()),
            account: account.to_string(),
            source,
        };
        (guard, others_account, others_pair)
    }
}

/// A panic while holding the lock leaves counters that are still usable.
fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// One sign-in in flight ([`RateLimits::checking`]); released on drop, also when the sign-in
/// is abandoned half-way (the client went away).
struct Checking {
    state: Arc<Mutex<State>>,
    /// `None` once left quietly ([`Checking::leave_quietly`]).
    settled: Option<Arc<tokio::sync::Notify>>,
    account: String,
    source: IpAddr,
}

impl Drop for Checking {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        if let Some(n) = state.checking_account.get_mut(&self.account) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.checking_account.remove(&self.account);
            }
        }
        let pair = (std::mem::take(&mut self.account), self.source);
        if let Some(n) = state.checking_pair.get_mut(&pair) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.checking_pair.remove(&pair);
            }
        }
        drop(state);
        if let Some(settled) = &self.settled {
            settled.notify_waiters();
        }
    }
}

impl Checking {
    /// Stops being in flight without waking the sign-ins waiting for one to end (one that only
    /// waited frees nothing they wait for).
    fn leave_quietly(mut self) {
        self.settled = None;
    }
}

/// Where a sign-in came from, for the sign-in history.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInVia {
    Imap,
    Pop3,
    Smtp,
    Webmail,
    Api,
    /// CardDAV: a mail client too (a one-time password does not open it); each request signs
    /// in, so, like the API, only failures go into the history.
    Dav,
    /// ManageSieve (RFC 5804): a mail client editing its filters.
    ManageSieve,
}

impl SignInVia {
    /// IMAP, POP3, SMTP, CardDAV and ManageSieve: the clients a one-time password does not open
    /// (`Core::check_mail_client_access`).
    pub fn is_mail_client(self) -> bool {
        matches!(
            self,
            SignInVia::Imap
                | SignInVia::Pop3
                | SignInVia::Smtp
                | SignInVia::Dav
                | SignInVia::ManageSieve
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SignInVia::Imap => "imap",
            SignInVia::Pop3 => "pop3",
            SignInVia::Smtp => "smtp",
            SignInVia::Webmail => "webmail",
            SignInVia::Api => "api",
            SignInVia::Dav => "carddav",
            SignInVia::ManageSieve => "managesieve",
        }
    }
}

/// One open connection counted against its IP; released on drop.
#[derive(Debug)]
pub struct ConnectionPermit {
    ip: IpAddr,
    state: Arc<Mutex<State>>,
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut state = lock(&self.state);
        if let Some(n) = state.connections.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.connections.remove(&self.ip);
            }
        }
    }
}

/// Why a rate-limited operation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// Too many recipients of this account's messages in the last hour.
    #[error("{limit} recipients per hour reached / đã gửi tới {limit} người nhận trong một giờ; try again in {} s", retry_after.as_secs())]
    SendRate { limit: u32, retry_after: Duration },
    /// The counts could not be read from the store: refused for now, to be tried again.
    #[error(
        "sending limits cannot be checked now / chưa kiểm tra được hạn mức gửi; try again later"
    )]
    Unavailable,
}

/// Why [`Core::authenticate_from`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignInError {
    /// The credentials were checked and refused (or the store failed).
    #[error(transparent)]
    Auth(AuthError),
    /// Too many failures from this IP or on this account: not even checked. Answer with a
    /// temporary failure (`454 4.7.0` in SMTP, `NO [UNAVAILABLE]` in IMAP, `-ERR [SYS/TEMP]`
    /// in POP3).
    #[error("too many failed sign-ins; try again in {} s", retry_after.as_secs())]
    Throttled { retry_after: Duration },
}

impl Core {
    /// Counts a new connection from `ip` (by its [`source_key`]: an IPv6 /64 counts as one
    /// client); `None` when `limits.connections_per_ip` are already open on this node. Keep
    /// the permit as long as the connection.
    pub fn open_connection(&self, ip: IpAddr) -> Option<ConnectionPermit> {
        let ip = source_key(ip);
        let max = self.config.limits.connections_per_ip;
        let mut state = self.rate_limits.lock();
        let open = state.connections.entry(ip).or_insert(0);
        if *open >= max {
            crate::metrics::bump(&self.metrics.connections_refused, 1);
            return None;
        }
        *open += 1;
        crate::metrics::bump(&self.metrics.connections, 1);
        Some(ConnectionPermit {
            ip,
            state: self.rate_limits.state.clone(),
        })
    }

    /// Events older than every window are forgotten as new ones are recorded.
    fn forget_before(&self, now: i64) -> i64 {
        now - millis(self.config.limits.auth_failure_window.max(HOUR))
    }

    /// Whether `account` may submit a message to `recipients` more recipients
    /// (`limits.messages_per_hour` counts recipients: one message to 500 addresses weighs as
    /// much as 500 messages), on any node within the last hour.
    pub async fn check_send_rate(
        &self,
        account: AccountId,
        recipients: usize,
    ) -> Result<(), LimitError> {
        let limit = self.config.limits.messages_per_hour;
        let now = now_ms();
        let key = account.0.to_string();
        let ask = RateAsk {
            kind: RateKind::Sent,
            key: &key,
            since: now - millis(HOUR),
        };
        let sent = match self.store.rate_counts(&[ask]).await {
            Ok(counts) => counts[0],
            Err(e) => {
                tracing::warn!(error = %e, "could not read the sending count");
                return Err(LimitError::Unavailable);
            }
        };
        if sent.weight.saturating_add(recipients.max(1) as u64) > u64::from(limit) {
            return Err(LimitError::SendRate {
                limit,
                retry_after: retry_after(&sent, HOUR, now),
            });
        }
        Ok(())
    }

    /// Records one message submitted by `account` to `recipients` recipients (after it was
    /// accepted). A failure to record is logged: the message is already accepted.
    pub async fn record_sent(&self, account: AccountId, recipients: usize) {
        crate::metrics::bump(&self.metrics.submissions, 1);
        let now = now_ms();
        let event = RateEvent {
            kind: RateKind::Sent,
            key: account.0.to_string(),
            at: now,
            weight: u32::try_from(recipients.max(1)).unwrap_or(u32::MAX),
        };
        if let Err(e) = self
            .store
            .rate_record(&[event], self.forget_before(now))
            .await
        {
            tracing::warn!(error = %e, "could not record a submission's recipients");
        }
        // The Đ17 ledger: one message sent, on the province's day.
        let day = hopthu_store::ledger_day(crate::now());
        if let Err(e) = self.store.count_sent(account, day).await {
            tracing::warn!(error = %e, "could not count a sent message in the ledger");
        }
    }

    /// Whether one more success notice (`NOTIFY=SUCCESS`) may go to `sender` within the hour
    /// ([`SUCCESS_NOTICES_PER_HOUR`]); counts it when so. Notices are not a way to make us
    /// send a flood to one address.
    pub(crate) async fn allow_success_notice(&self, sender: &str) -> bool {
        let now = now_ms();
        let key = sender.to_ascii_lowercase();
        let ask = RateAsk {
            kind: RateKind::SuccessNotice,
            key: &key,
            since: now - millis(HOUR),
        };
        match self.store.rate_counts(&[ask]).await {
            Ok(counts) if counts[0].weight < SUCCESS_NOTICES_PER_HOUR as u64 => {}
            Ok(_) => return false,
            Err(e) => {
                tracing::warn!(error = %e, "could not read the success notice count");
                return false;
            }
        }
        let event = RateEvent {
            kind: RateKind::SuccessNotice,
            key,
            at: now,
            weight: 1,
        };
        match self
            .store
            .rate_record(&[event], self.forget_before(now))
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not count a success notice");
                false
            }
        }
    }

    /// [`Core::authenticate`] with the failed-sign-in throttle of `[limits]`, keyed by the
    /// source ([`source_key`]: the IPv4 address, the IPv6 /64), counted on every node:
    /// - refused without checking while the source has `auth_failures_per_ip` failures, or the
    ///   account has `auth_failures_per_account` failures *from this source*, within
    ///   `auth_failure_window` — others (the owner at the office) can still sign in;
    /// - the account's failures from every source slow each attempt on it down (a pause before
    ///   the check growing with the failures beyond `auth_failures_per_account`, at most
    ///   3 s), so a spread-out attack gets slow without locking the owner out;
    /// - the attempts in flight on this node count as failures of their account (and of the
    ///   account from their source) until they turn out right, so parallel guesses see each
    ///   other and cannot all pass the limit;
    /// - a failure is recorded in the store before it is answered, after a short pause growing
    ///   with the source's failures; a right password clears its account's failures from that
    ///   source.
    ///
    /// Each attempt on a known account goes into its sign-in history (`Core::sign_ins`), with
    /// `via` and the IP; successful API requests are not recorded (each request signs in).
    pub async fn authenticate_from(
        &self,
        ip: IpAddr,
        via: SignInVia,
        login: &str,
        password: &str,
    ) -> Result<Principal, SignInError> {
        let limits = &self.config.limits;
        let window = limits.auth_failure_window;
        let key = self.throttle_key(login);
        let source = source_key(ip);
        let source_text = source.to_string();
        let pair_text = format!("{key} {source_text}");
        let waited_until = tokio::time::Instant::now() + IN_FLIGHT_WAIT;
        let (checking, others_account, by_ip, by_pair, by_account) = loop {
            // Registered before this attempt counts itself, so no ending is missed.
            let settled = self.rate_limits.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            // In flight before the stored counts are read: an attempt that ends meanwhile has
            // recorded its failure before leaving, so it is counted one way or the other.
            let (checking, others_account, others_pair) = self.rate_limits.checking(&key, source);
            let now = now_ms();
            let since = now - millis(window);
            let ask = |kind, key| RateAsk { kind, key, since };
            let counts = match self
                .store
                .rate_counts(&[
                    ask(RateKind::FailureBySource, &source_text),
                    ask(RateKind::FailureByAccountSource, &pair_text),
                    ask(RateKind::FailureByAccount, &key),
                ])
                .await
            {
                Ok(counts) => counts,
                Err(e) => {
                    tracing::warn!(error = %e, "could not read the failed sign-ins");
                    return Err(SignInError::Auth(AuthError::Temporary));
                }
            };
            let (by_ip, by_pair, by_account) = (counts[0], counts[1], counts[2]);
            let per_account = u64::from(limits.auth_failures_per_account);
            let throttled = if by_ip.weight >= u64::from(limits.auth_failures_per_ip) {
                tracing::warn!(%ip, failures = by_ip.weight, "sign-in throttled (source)");
                Some(retry_after(&by_ip, window, now))
            } else if by_pair.weight >= per_account {
                tracing::warn!(%ip, login = ?key, failures = by_pair.weight, "sign-in throttled (account from this source)");
                Some(retry_after(&by_pair, window, now))
            } else if by_pair.weight + others_pair >= per_account {
                // Only attempts still in flight stand between this one and the limit: wait
                // until one of them ends, then look again.
                // Leaving quietly: waking the others (and itself) would only make them look
                // again at once. A short tick also ends two waiters waiting on each other.
                checking.leave_quietly();
                if tokio::time::Instant::now() < waited_until {
                    let _ = tokio::time::timeout(IN_FLIGHT_TICK, settled).await;
                    continue;
                }
                tracing::warn!(%ip, login = ?key, failures = by_pair.weight, in_flight = others_pair, "sign-in throttled (account from this source, in flight)");
                crate::metrics::bump(&self.metrics.sign_ins_throttled, 1);
                self.record_sign_in(None, login, via, ip, "throttled").await;
                return Err(SignInError::Throttled {
                    retry_after: retry_after(&by_pair, window, now),
                });
            } else {
                None
            };
            if let Some(retry_after) = throttled {
                drop(checking);
                crate::metrics::bump(&self.metrics.sign_ins_throttled, 1);
                self.record_sign_in(None, login, via, ip, "throttled").await;
                return Err(SignInError::Throttled { retry_after });
            }
            break (checking, others_account, by_ip, by_pair, by_account);
        };
        let slow_down = (by_account.weight + others_account)
            .saturating_sub(u64::from(limits.auth_failures_per_account));
        if slow_down > 0 {
            tokio::time::sleep(failure_pause(slow_down)).await;
        }
        match self.authenticate(login, password).await {
            Ok(principal) => {
                drop(checking);
                if by_pair.weight > 0
                    && let Err(e) = self
                        .store
                        .rate_clear(RateKind::FailureByAccountSource, &pair_text)
                        .await
                {
                    tracing::warn!(error = %e, "could not clear the failed sign-ins");
                }
                // A right one-time password still gets a mail client nowhere
                // (`check_mail_client_access`, which the protocol then answers with): the
                // history and the metrics say so rather than "ok".
                let result = if via.is_mail_client() && principal.must_change_password {
                    crate::metrics::bump(&self.metrics.sign_ins_must_change, 1);
                    "must_change"
                } else {
                    crate::metrics::bump(&self.metrics.sign_ins, 1);
                    "ok"
                };
                if !matches!(via, SignInVia::Api | SignInVia::Dav) {
                    self.record_sign_in(Some(principal.account), login, via, ip, result)
                        .await;
                }
                Ok(principal)
            }
            Err(AuthError::Temporary) => Err(SignInError::Auth(AuthError::Temporary)),
            // The right password of a delegated unit mailbox is no guess: not counted as a
            // failure of the source, so the phones still set up with the unit's old shared
            // password do not lock the office's address out. Recorded in the history.
            Err(AuthError::Delegated) => {
                drop(checking);
                crate::metrics::bump(&self.metrics.sign_in_failures, 1);
                self.record_sign_in(None, login, via, ip, "delegated").await;
                Err(SignInError::Auth(AuthError::Delegated))
            }
            Err(e) => {
                crate::metrics::bump(&self.metrics.sign_in_failures, 1);
                let result = match e {
                    AuthError::Disabled => "refused",
                    AuthError::Expired => "expired",
                    _ => "failed",
                };
                let now = now_ms();
                let event = |kind, key: &str| RateEvent {
                    kind,
                    key: key.to_string(),
                    at: now,
                    weight: 1,
                };
                let events = [
                    event(RateKind::FailureBySource, &source_text),
                    event(RateKind::FailureByAccountSource, &pair_text),
                    event(RateKind::FailureByAccount, &key),
                ];
                if let Err(e) = self
                    .store
                    .rate_record(&events, self.forget_before(now))
                    .await
                {
                    tracing::warn!(error = %e, "could not record a failed sign-in");
                }
                // Recorded: no longer needs counting as in flight.
                drop(checking);
                // The history row of a known account is written while the pause runs, so a
                // failure on a known account takes as long as one on an unknown login.
                tokio::join!(
                    self.record_sign_in(None, login, via, ip, result),
                    tokio::time::sleep(failure_pause(by_ip.weight + 1)),
                );
                Err(SignInError::Auth(e))
            }
        }
    }

    /// Writes one row of sign-in history for the account `login` names (nothing for a login
    /// that names no account). A failure to write is logged, never fatal to the sign-in.
    async fn record_sign_in(
        &self,
        account: Option<AccountId>,
        login: &str,
        via: SignInVia,
        ip: IpAddr,
        result: &str,
    ) {
        let account = match account {
            Some(id) => Some(id),
            None => match self.login_address(login) {
                Some(address) => self
                    .store
                    .account_by_address(&address.to_string())
                    .await
                    .ok()
                    .flatten()
                    .map(|a| a.id),
                None => None,
            },
        };
        let Some(account) = account else {
            return;
        };
        let record = hopthu_store::SignInRecord {
            account,
            at: crate::now(),
            via: via.as_str().to_string(),
            ip: ip.to_string(),
            result: result.to_string(),
        };
        if let Err(e) = self.store.record_sign_in(&record).await {
            tracing::warn!(error = %e, "could not record the sign-in");
        }
    }

    /// The newest sign-ins of an account (at most `limit`), newest first: the webmail shows a
    /// user their own, the operator's command any account's.
    pub async fn sign_ins(
        &self,
        account: AccountId,
        limit: u32,
    ) -> crate::Result<Vec<hopthu_store::SignInRecord>> {
        Ok(self.store.sign_ins(account, limit).await?)
    }

    /// The account a login names (so `datnv` and `DatNV@caobang.gov.vn` count together).
    fn throttle_key(&self, login: &str) -> String {
        match self.login_address(login) {
            Some(address) => address.to_string().to_lowercase(),
            None => login.trim().to_lowercase().chars().take(256).collect(),
        }
    }
}

/// One connection's command rate (Đ13.3, protocol robustness): a token bucket of
/// `[limits] command_burst` commands, refilled at `commands_per_second`. A faster client is
/// paced (its next command waits), not refused, so a well-behaved client never notices.
#[derive(Debug)]
pub struct CommandPace {
    tokens: f64,
    burst: f64,
    per_second: f64,
    at: Instant,
}

impl CommandPace {
    pub fn new(burst: u32, per_second: u32, now: Instant) -> Self {
        CommandPace {
            tokens: f64::from(burst),
            burst: f64::from(burst.max(1)),
            per_second: f64::from(per_second.max(1)),
            at: now,
        }
    }

    /// For a connection's settings from `[limits]`.
    pub fn from_limits(limits: &hopthu_config::Limits) -> Self {
        Self::new(
            limits.command_burst,
            limits.commands_per_second,
            Instant::now(),
        )
    }

    /// Takes a token for one command; how long to wait before reading the next.
    pub fn take(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.per_second)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_a_flood_of_commands() {
        let start = Instant::now();
        let mut pace = CommandPace::new(500, 200, start);
        // The burst passes without waiting.
        for _ in 0..500 {
            assert_eq!(pace.take(start), Duration::ZERO);
        }
        // Then each command waits its share of a second.
        let wait = pace.take(start);
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_millis(6),
            "{wait:?}"
        );
        // Time refills the bucket.
        assert_eq!(pace.take(start + Duration::from_secs(10)), Duration::ZERO);
        // A slower setting waits longer.
        let mut slow = CommandPace::new(1, 2, start);
        assert_eq!(slow.take(start), Duration::ZERO);
        assert_eq!(slow.take(start), Duration::from_millis(500));
    }

    #[test]
    fn permits_are_released() {
        let limits = RateLimits::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let permit = ConnectionPermit {
            ip,
            state: limits.state.clone(),
        };
        limits.lock().connections.insert(ip, 1);
        drop(permit);
        assert!(limits.lock().connections.is_empty());
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;
    use crate::NewAccountRequest;

    /// A core on a fresh data directory with `limits` in `[limits]`.
    async fn core(name: &str, limits: &str) -> (Arc<Core>, std::path::PathBuf) {
        let dir =
            std::env::temp_dir().join(format!("hopthu-throttle-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = hopthu_config::Config::from_toml(
            &format!("data_dir = \"data\"\n[limits]\n{limits}\n"),
            "test",
            &dir,
        )
        .unwrap();
        let core = Core::open(config).await.unwrap();
        core.create_account(
            &crate::Actor::console(),
            NewAccountRequest {
                address: "qtv@caobang.gov.vn".into(),
                display_name: "Quản trị".into(),
                password: Some("Mat-khau-dung-1".into()),
                must_change_password: false,
                exception: "test".into(),
            },
        )
        .await
        .unwrap();
        (core, dir)
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_ipv6_slash_64_is_one_source() {
        let a = source_key(ip("2001:db8:1:2::5"));
        assert_eq!(a, source_key(ip("2001:db8:1:2:ffff:ffff:ffff:1")));
        assert_ne!(a, source_key(ip("2001:db8:1:3::5")));
        assert_eq!(source_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_eq!(source_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_guesses_beyond_the_limit_are_refused() {
        // Reserved per account from the source: twelve guesses at once, three checked.
        let (core, dir) = core(
            "parallel",
            "auth_failures_per_ip = 100\nauth_failures_per_account = 3",
        )
        .await;
        let guesses: Vec<_> = (0..12)
            .map(|i| {
                let core = core.clone();
                tokio::spawn(async move {
                    core.authenticate_from(
                        ip("192.0.2.9"),
                        SignInVia::Imap,
                        "qtv@caobang.gov.vn",
                        &format!("doan-sai-{i}"),
                    )
                    .await
                })
            })
            .collect();
        let mut checked = 0;
        let mut throttled = 0;
        for guess in guesses {
            match guess.await.unwrap() {
                Err(SignInError::Auth(AuthError::InvalidCredentials)) => checked += 1,
                Err(SignInError::Throttled { .. }) => throttled += 1,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!((checked, throttled), (3, 9));
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A mail client opening more connections at once than the failure limit (Thunderbird
    /// opens several) with the right password: the attempts beyond the limit wait for the
    /// earlier ones, none is refused.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn parallel_right_passwords_beyond_the_limit_all_sign_in() {
        let (core, dir) = core(
            "parallel-right",
            "auth_failures_per_ip = 100\nauth_failures_per_account = 3",
        )
        .await;
        let sign_ins: Vec<_> = (0..12)
            .map(|_| {
                let core = core.clone();
                tokio::spawn(async move {
                    core.authenticate_from(
                        ip("192.0.2.10"),
                        SignInVia::Imap,
                        "qtv@caobang.gov.vn",
                        "Mat-khau-dung-1",
                    )
                    .await
                })
            })
            .collect();
        for sign_in in sign_ins {
            let principal = sign_in.await.unwrap().expect("signed in");
            assert_eq!(principal.address.to_string(), "qtv@caobang.gov.vn");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_owner_signs_in_from_elsewhere_while_an_attacker_is_locked() {
        let (core, dir) = core(
            "owner",
            "auth_failures_per_ip = 50\nauth_failures_per_account = 2",
        )
        .await;
        let attacker = ip("198.51.100.66");
        for guess in ["sai-1", "sai-2"] {
            let r = core
                .authenticate_from(attacker, SignInVia::Smtp, "qtv", guess)
                .await;
            assert!(matches!(r, Err(SignInError::Auth(_))), "{r:?}");
        }
        // The attacker's source is locked for that account, even with the right password…
        let r = core
            .authenticate_from(attacker, SignInVia::Smtp, "qtv", "Mat-khau-dung-1")
            .await;
        assert!(matches!(r, Err(SignInError::Throttled { .. })), "{r:?}");
        // …and the owner at the office is not.
        let owner = core
            .authenticate_from(
                ip("203.0.113.5"),
                SignInVia::Webmail,
                "qtv@caobang.gov.vn",
                "Mat-khau-dung-1",
            )
            .await
            .expect("the owner signs in");
        assert_eq!(owner.address.to_string(), "qtv@caobang.gov.vn");
        let _ = std::fs::remove_dir_all(dir);
    }

    /// A sign-in records the account's last access, but at most once per
    /// `ACCESS_RECORD_INTERVAL`: one within the hour of the stored time writes nothing. Every
    /// sign-in still gets its history row.
    #[tokio::test]
    async fn a_sign_in_records_the_last_access_at_most_hourly() {
        let (core, dir) = core("access", "").await;
        let sign_in = || {
            core.authenticate_from(
                ip("203.0.113.7"),
                SignInVia::Imap,
                "qtv@caobang.gov.vn",
                "Mat-khau-dung-1",
            )
        };
        let last_access = || async {
            let account = core.store.account_by_address("qtv@caobang.gov.vn");
            account.await.unwrap().unwrap().last_access_at
        };
        assert_eq!(last_access().await, None);
        let id = sign_in().await.expect("signs in").account;
        let at = last_access().await.expect("the first sign-in is recorded");
        assert!((crate::now() - at).abs() < 60, "{at}");
        // Within the hour: nothing written, the stored time (set a little back) stays.
        core.store.record_access(id, at - 600).await.unwrap();
        sign_in().await.expect("signs in");
        assert_eq!(last_access().await, Some(at - 600));
        // An hour old: the sign-in records its time.
        let old = at - hopthu_store::ACCESS_RECORD_INTERVAL;
        core.store.record_access(id, old).await.unwrap();
        sign_in().await.expect("signs in");
        assert!(last_access().await.unwrap() >= at);
        assert_eq!(core.sign_ins(id, 10).await.unwrap().len(), 3);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn addresses_of_one_ipv6_slash_64_share_their_failures() {
        let (core, dir) = core(
            "ipv6",
            "auth_failures_per_ip = 2\nauth_failures_per_account = 100",
        )
        .await;
        for (n, from) in ["2001:db8:7:7::1", "2001:db8:7:7::2"]
            .into_iter()
            .enumerate()
        {
            let r = core
                .authenticate_from(ip(from), SignInVia::Imap, &format!("khong-co-{n}"), "x")
                .await;
            assert!(matches!(r, Err(SignInError::Auth(_))), "{r:?}");
        }
        let r = core
            .authenticate_from(
                ip("2001:db8:7:7::3"),
                SignInVia::Imap,
                "qtv",
                "Mat-khau-dung-1",
            )
            .await;
        assert!(matches!(r, Err(SignInError::Throttled { .. })), "{r:?}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

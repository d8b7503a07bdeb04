//! The activity ledger's writes (Đ13.1, Đ17): a person opening their own mailbox — IMAP
//! SELECT or EXAMINE of INBOX, a POP3 session, the webmail's INBOX — is counted per day in
//! the province's time, as it happens. An SMTP sign-in or a client idling all day opens
//! nothing: the report counts openings, not sign-ins.

use hopthu_model::AccountId;

use crate::Core;

/// The province's day of a Unix time: days since 1970-01-01 in Vietnam (UTC+7).
pub fn local_day(at: i64) -> i64 {
    hopthu_store::ledger_day(at)
}

/// Openings a day that the report needs to know of (Đ13.1: at least twice a working day);
/// past that, a process stops writing for the account until the next day.
const OPENS_NEEDED: u32 = 2;

impl Core {
    /// Records that `account`'s own mailbox was opened now. At most [`OPENS_NEEDED`] writes per
    /// account and day per process; a failed write is logged and the session goes on.
    pub async fn note_mailbox_opened(&self, account: AccountId) {
        let day = local_day(crate::now());
        {
            let Ok(seen) = self.opens.lock() else {
                return;
            };
            if seen
                .get(&account)
                .is_some_and(|&(d, n)| d == day && n >= OPENS_NEEDED)
            {
                return;
            }
        }
        match self.store.record_open(account, day).await {
            Ok(n) => {
                if let Ok(mut seen) = self.opens.lock() {
                    // A new day starts the map afresh, so it holds one day's accounts.
                    if seen.values().next().is_some_and(|&(d, _)| d != day) {
                        seen.clear();
                    }
                    seen.insert(account, (day, n));
                }
            }
            Err(e) => {
                tracing::warn!(account = account.0, error = %e, "mailbox opening not recorded")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::local_day;

    #[test]
    fn the_day_starts_at_midnight_in_vietnam() {
        // 2026-03-01 17:00 UTC is 2026-03-02 00:00 in Vietnam.
        let midnight = 1_772_384_400;
        assert_eq!(local_day(midnight), local_day(midnight + 86_399));
        assert_eq!(local_day(midnight) - 1, local_day(midnight - 1));
        assert_eq!(local_day(midnight), 20_514);
    }
}

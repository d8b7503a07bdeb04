//! Which signed-in principals may use mail clients (IMAP, POP3, SMTP AUTH).
//!
//! A one-time password (Đ13.4: handed out at account creation or import) must be replaced by
//! the owner before mail clients are served: the password is checked as usual, then refused
//! with a notice that says where to change it (the webmail's change page). Failed-sign-in
//! throttling does not count this refusal: the password was right.

use crate::{Core, Principal};

impl Core {
    /// Whether this principal may be served by IMAP, POP3 and SMTP submission now: `Err` with
    /// the notice to show (ASCII, Vietnamese then English, fit for any protocol's reply line).
    pub fn check_mail_client_access(&self, who: &Principal) -> Result<(), String> {
        if !who.must_change_password {
            return Ok(());
        }
        let url = self.password_change_url();
        Err(format!(
            "Mat khau dung mot lan phai duoc doi truoc: dang nhap webmail tai {url} de dat mat \
             khau moi / The one-time password must be changed first: sign in to the webmail at \
             {url} to set a new password"
        ))
    }

    /// Where a user changes a password: the webmail at `https://<hostname>/`.
    pub fn password_change_url(&self) -> String {
        format!("https://{}/", self.config().hostname)
    }

    /// Sets the password of the account with this address (`hopthu account password`, an
    /// operator's reset); with `must_change` it is again a one-time password.
    /// Audited as `account.set_password` by `actor` in the same transaction; the account's web
    /// sessions end.
    pub async fn set_password_of(
        &self,
        actor: &crate::Actor,
        address: &str,
        password: &str,
        must_change: bool,
        confirmation: Option<crate::compromised::ConfirmationFile>,
    ) -> crate::Result<()> {
        let account = self.account_id_of(address).await?;
        let address = self
            .login_address(address)
            .map(|a| a.to_string())
            .unwrap_or_else(|| address.to_string());
        let hash = self.checked_password_hash(password).await?;
        // A mailbox locked as compromised needs the agency's written confirmation (Đ13.4).
        let resolution = self
            .compromise_resolution(&actor.name, &address, confirmation)
            .await?;
        self.write_password(
            actor,
            "account.set_password",
            (account, &address),
            (hash, must_change),
            resolution,
        )
        .await
    }

    /// The account of an address of this domain (or of a bare local part), for the
    /// operator's commands.
    pub async fn account_id_of(&self, address: &str) -> crate::Result<hopthu_model::AccountId> {
        let address = self
            .login_address(address)
            .ok_or_else(|| crate::Error::invalid("not an address of this domain"))?;
        Ok(self
            .store
            .account_by_address(&address.to_string())
            .await?
            .ok_or_else(|| crate::Error::not_found("no such account"))?
            .id)
    }
}

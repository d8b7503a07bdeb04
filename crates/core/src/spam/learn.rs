//! Users teach the classifier by filing mail: a move or copy into Junk is spam, out of Junk
//! into any folder but Trash is ham (a copy too: a client without MOVE copies and expunges).
//! [`Core::note_filed`] is called by `mail.rs` after the move or copy committed; it only queues
//! a [`LearnJob`]. One task per process ([`spawn_learner`]) reads the bodies, tokenises them on
//! the blocking pool and learns each message in its own store transaction; a failure is logged
//! and never reaches the user's move. A unit mailbox's folders, as its delegates see them
//! (`Shared/<address>/…`), carry no special use, so filing there teaches nothing.

use std::sync::{Arc, Weak};

use hopthu_model::{MailboxId, Uid};
use hopthu_store::{Learned, MailboxRecord, SpamClass, SpecialUse};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::{Core, Principal};

/// Messages to learn: the moved or copied messages, by their UIDs in the target.
#[derive(Debug, Clone)]
pub(crate) struct LearnJob {
    pub domain: String,
    pub class: SpamClass,
    pub mailbox: MailboxId,
    pub uids: Vec<Uid>,
}

/// What filing a message from `source` into `target` teaches, if anything.
pub(crate) fn lesson(source: Option<SpecialUse>, target: Option<SpecialUse>) -> Option<SpamClass> {
    let junk = Some(SpecialUse::Junk);
    match (source == junk, target == junk) {
        (false, true) => Some(SpamClass::Spam),
        (true, false) if target != Some(SpecialUse::Trash) => Some(SpamClass::Ham),
        _ => None,
    }
}

impl Core {
    /// After messages were moved or copied from `source` to `target` (their new UIDs in
    /// `added`): queues what that teaches the classifier of `who`'s domain.
    pub(crate) fn note_filed(
        &self,
        who: &Principal,
        source: &MailboxRecord,
        target: &MailboxRecord,
        added: Vec<Uid>,
    ) {
        let cfg = &self.config.antispam;
        if !cfg.enabled || !cfg.bayes || added.is_empty() {
            return;
        }
        let Some(class) = lesson(source.special_use, target.special_use) else {
            return;
        };
        let job = LearnJob {
            domain: who.address.domain().to_ascii_lowercase(),
            class,
            mailbox: target.id,
            uids: added,
        };
        if self.learn_jobs.send(job).is_err() {
            tracing::warn!("the spam learner has stopped: not learnt");
        }
    }

    /// Learns the messages of one job (see the module's description).
    async fn learn(&self, job: LearnJob) -> crate::Result<usize> {
        let records = self.store.messages_by_uid(job.mailbox, &job.uids).await?;
        let mut learnt = 0;
        for record in records {
            let raw = match self.store.blobs().get(&record.blob).await {
                Ok(raw) => raw,
                Err(e) => {
                    tracing::warn!(error = %e, "message body unreadable: not learnt");
                    continue;
                }
            };
            let tokens = tokio::task::spawn_blocking(move || {
                mail_parser::MessageParser::default()
                    .parse(&raw)
                    .map(|m| super::bayes::tokens(&m))
                    .unwrap_or_default()
            })
            .await
            .unwrap_or_default();
            let outcome = self
                .store
                .bayes_learn(
                    &job.domain,
                    record.blob.as_str(),
                    job.class,
                    &tokens,
                    crate::now(),
                )
                .await?;
            if outcome != Learned::Already {
                learnt += 1;
            }
        }
        Ok(learnt)
    }
}

/// Starts the task that learns what [`Core::note_filed`] queues; it ends with the `Core`.
pub(crate) fn spawn_learner(core: &Arc<Core>, mut jobs: UnboundedReceiver<LearnJob>) {
    let weak: Weak<Core> = Arc::downgrade(core);
    tokio::spawn(async move {
        while let Some(job) = jobs.recv().await {
            let Some(core) = weak.upgrade() else { return };
            let (domain, class, count) = (job.domain.clone(), job.class, job.uids.len());
            match core.learn(job).await {
                Ok(learnt) => {
                    tracing::info!(
                        domain,
                        ?class,
                        messages = count,
                        learnt,
                        "spam filter trained"
                    )
                }
                Err(e) => {
                    tracing::warn!(domain, ?class, error = %e.message, "spam filter not trained")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filing_teaches_spam_into_junk_and_ham_out_of_it() {
        use SpecialUse::{Archive, Junk, Trash};
        assert_eq!(lesson(None, Some(Junk)), Some(SpamClass::Spam));
        assert_eq!(lesson(Some(Archive), Some(Junk)), Some(SpamClass::Spam));
        assert_eq!(lesson(Some(Junk), None), Some(SpamClass::Ham));
        assert_eq!(lesson(Some(Junk), Some(Archive)), Some(SpamClass::Ham));
        // Out of Junk into Trash, within Junk, between other folders: nothing.
        assert_eq!(lesson(Some(Junk), Some(Trash)), None);
        assert_eq!(lesson(Some(Junk), Some(Junk)), None);
        assert_eq!(lesson(None, Some(Trash)), None);
        assert_eq!(lesson(None, None), None);
    }
}

//! The Bayesian spam classifier's counts in storage terms (contract §28): per mail domain, how
//! many messages of each class its users taught, how many of each class held each token, and
//! what each message was learnt as. Tokens and arithmetic are the caller's
//! (`hopthu_core::spam`); the store only counts, once per message.

use crate::Result;

/// What a message is learnt as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamClass {
    Spam = 1,
    Ham = 2,
}

impl SpamClass {
    pub(crate) fn from_i64(v: i64) -> Option<SpamClass> {
        match v {
            1 => Some(SpamClass::Spam),
            2 => Some(SpamClass::Ham),
            _ => None,
        }
    }
}

/// What [`SpamStore::bayes_learn`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// The message was new to the domain's classifier: counted in its class.
    New,
    /// It had been learnt as the other class: taken out of that one, counted in this one.
    Changed,
    /// It had already been learnt as this class: nothing written.
    Already,
}

/// The counts a classification needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BayesCounts {
    /// Messages learnt as spam, as ham.
    pub spam_messages: u64,
    pub ham_messages: u64,
    /// Of the tokens asked about, those ever seen: (token, spam messages, ham messages).
    pub tokens: Vec<(String, u64, u64)>,
}

/// The classifier's counts (part of the storage contract, [`crate::contract`] §28).
#[async_trait::async_trait]
pub trait SpamStore: Send + Sync {
    /// Learns the message `message` (a key of the caller's: the SHA-256 of its body) of
    /// `domain` as `class`, with its distinct `tokens`, in one write transaction serialised
    /// per domain: a message never learnt adds one to its class and to each token's count in
    /// it; one learnt as the other class moves from that class to this one (its counts taken
    /// away, never below zero); one learnt as this class already changes nothing. `at` is Unix
    /// seconds.
    async fn bayes_learn(
        &self,
        domain: &str,
        message: &str,
        class: SpamClass,
        tokens: &[String],
        at: i64,
    ) -> Result<Learned>;

    /// The domain's message totals and the counts of those of `tokens` it has seen.
    async fn bayes_counts(&self, domain: &str, tokens: &[String]) -> Result<BayesCounts>;

    /// What `message` was learnt as in `domain`, if anything.
    async fn bayes_learned_as(&self, domain: &str, message: &str) -> Result<Option<SpamClass>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Kind, on_each_backend};

    /// Contract §28: a message counts once in one class; relearning it as the other class
    /// moves it; domains are apart; counts never go below zero.
    async fn a_message_is_learnt_once_and_moves_between_classes(kind: Kind) {
        let (store, _dir) = crate::testing::open(kind).await;
        let toks = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let spammy = toks(&["trung", "thuong", "ngay"]);
        let counts = store.bayes_counts("x.vn", &spammy).await.unwrap();
        assert_eq!(counts, BayesCounts::default());
        assert_eq!(
            store
                .bayes_learn("x.vn", "m1", SpamClass::Spam, &spammy, 10)
                .await
                .unwrap(),
            Learned::New
        );
        assert_eq!(
            store
                .bayes_learn("x.vn", "m1", SpamClass::Spam, &spammy, 11)
                .await
                .unwrap(),
            Learned::Already
        );
        store
            .bayes_learn("x.vn", "m2", SpamClass::Spam, &toks(&["trung", "xe"]), 12)
            .await
            .unwrap();
        store
            .bayes_learn("x.vn", "m3", SpamClass::Ham, &toks(&["hop", "ngay"]), 13)
            .await
            .unwrap();
        // Another domain learns apart.
        store
            .bayes_learn("y.vn", "m1", SpamClass::Ham, &spammy, 14)
            .await
            .unwrap();
        let counts = store
            .bayes_counts("x.vn", &toks(&["trung", "thuong", "ngay", "khong"]))
            .await
            .unwrap();
        let mut tokens = counts.tokens.clone();
        tokens.sort();
        assert_eq!((counts.spam_messages, counts.ham_messages), (2, 1));
        assert_eq!(
            tokens,
            [
                ("ngay".to_string(), 1, 1),
                ("thuong".to_string(), 1, 0),
                ("trung".to_string(), 2, 0)
            ]
        );
        assert_eq!(
            store.bayes_learned_as("x.vn", "m1").await.unwrap(),
            Some(SpamClass::Spam)
        );
        // Moved out of Junk: m1 becomes ham, its spam counts taken away.
        assert_eq!(
            store
                .bayes_learn("x.vn", "m1", SpamClass::Ham, &spammy, 15)
                .await
                .unwrap(),
            Learned::Changed
        );
        let counts = store
            .bayes_counts("x.vn", &toks(&["trung", "thuong", "ngay"]))
            .await
            .unwrap();
        let mut tokens = counts.tokens.clone();
        tokens.sort();
        assert_eq!((counts.spam_messages, counts.ham_messages), (1, 2));
        assert_eq!(
            tokens,
            [
                ("ngay".to_string(), 0, 2),
                ("thuong".to_string(), 0, 1),
                ("trung".to_string(), 1, 1)
            ]
        );
        assert_eq!(
            store.bayes_learned_as("x.vn", "m1").await.unwrap(),
            Some(SpamClass::Ham)
        );
        assert_eq!(store.bayes_learned_as("x.vn", "m9").await.unwrap(), None);
        let other = store.bayes_counts("y.vn", &spammy).await.unwrap();
        assert_eq!((other.spam_messages, other.ham_messages), (0, 1));
        // Many tokens at once (several statements' worth of parameters).
        let many: Vec<String> = (0..1500).map(|i| format!("t{i}")).collect();
        store
            .bayes_learn("x.vn", "m4", SpamClass::Spam, &many, 16)
            .await
            .unwrap();
        let counts = store.bayes_counts("x.vn", &many).await.unwrap();
        assert_eq!(counts.tokens.len(), 1500);
        assert!(counts.tokens.iter().all(|(_, s, h)| (*s, *h) == (1, 0)));
    }

    on_each_backend!(a_message_is_learnt_once_and_moves_between_classes);
}

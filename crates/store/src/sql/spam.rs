//! SQL of the Bayesian classifier's counts (`bayes_totals`, `bayes_tokens`, `bayes_learned`;
//! [`crate::SpamStore`]). A message's tokens share one change (+1, or −1 in the class it
//! leaves), so each chunk of tokens is two statements whatever its size: an insert of the
//! missing rows, then one update.

use sqlx::Row;

use super::Backend;
use crate::Result;
use crate::spam::{BayesCounts, Learned, SpamClass};

/// Tokens per statement (two parameters besides them).
const CHUNK: usize = 500;

/// `$first, $first+1, …` for `n` parameters.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

#[async_trait::async_trait]
impl crate::SpamStore for Backend {
    async fn bayes_learn(
        &self,
        domain: &str,
        message: &str,
        class: SpamClass,
        tokens: &[String],
        at: i64,
    ) -> Result<Learned> {
        let mut tx = self.begin().await?;
        // The domain's totals row, written first: on PostgreSQL its row lock serialises the
        // learning of one domain, so the read of what a message was learnt as stays true.
        sqlx::query(
            "INSERT INTO bayes_totals (domain, spam, ham, updated_at) VALUES ($1, 0, 0, $2)
             ON CONFLICT (domain) DO NOTHING",
        )
        .bind(domain)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE bayes_totals SET updated_at = $2 WHERE domain = $1")
            .bind(domain)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        let before: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(class AS BIGINT) FROM bayes_learned WHERE domain = $1 AND message_hash = $2",
        )
        .bind(domain)
        .bind(message)
        .fetch_optional(&mut *tx)
        .await?;
        let before = before.and_then(SpamClass::from_i64);
        if before == Some(class) {
            tx.rollback().await?;
            return Ok(Learned::Already);
        }
        // (spam, ham) change of every token and of the totals.
        let (spam, ham): (i64, i64) = match (class, before) {
            (SpamClass::Spam, None) => (1, 0),
            (SpamClass::Ham, None) => (0, 1),
            (SpamClass::Spam, Some(_)) => (1, -1),
            (SpamClass::Ham, Some(_)) => (-1, 1),
        };
        let mut sorted: Vec<&String> = tokens.iter().collect();
        sorted.sort();
        sorted.dedup();
        for chunk in sorted.chunks(CHUNK) {
            let values = (0..chunk.len())
                .map(|i| format!("($1, ${}, 0, 0)", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO bayes_tokens (domain, token, spam, ham) VALUES {values}
                 ON CONFLICT (domain, token) DO NOTHING"
            );
            let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(domain);
            for token in chunk {
                insert = insert.bind(token.as_str());
            }
            insert.execute(&mut *tx).await?;
            let sql = format!(
                "UPDATE bayes_tokens
                    SET spam = CASE WHEN spam + $2 < 0 THEN 0 ELSE spam + $2 END,
                        ham = CASE WHEN ham + $3 < 0 THEN 0 ELSE ham + $3 END
                  WHERE domain = $1 AND token IN ({})",
                placeholders(4, chunk.len())
            );
            let mut update = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(domain)
                .bind(spam)
                .bind(ham);
            for token in chunk {
                update = update.bind(token.as_str());
            }
            update.execute(&mut *tx).await?;
        }
        sqlx::query(
            "UPDATE bayes_totals
                SET spam = CASE WHEN spam + $2 < 0 THEN 0 ELSE spam + $2 END,
                    ham = CASE WHEN ham + $3 < 0 THEN 0 ELSE ham + $3 END
              WHERE domain = $1",
        )
        .bind(domain)
        .bind(spam)
        .bind(ham)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO bayes_learned (domain, message_hash, class, learned_at)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (domain, message_hash) DO UPDATE
                SET class = excluded.class, learned_at = excluded.learned_at",
        )
        .bind(domain)
        .bind(message)
        .bind(class as i16)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if before.is_some() {
            Learned::Changed
        } else {
            Learned::New
        })
    }

    async fn bayes_counts(&self, domain: &str, tokens: &[String]) -> Result<BayesCounts> {
        let mut conn = self.read.acquire().await?;
        let mut counts = BayesCounts::default();
        if let Some(row) = sqlx::query("SELECT spam, ham FROM bayes_totals WHERE domain = $1")
            .bind(domain)
            .fetch_optional(&mut *conn)
            .await?
        {
            counts.spam_messages = count(row.try_get("spam")?);
            counts.ham_messages = count(row.try_get("ham")?);
        }
        let mut sorted: Vec<&String> = tokens.iter().collect();
        sorted.sort();
        sorted.dedup();
        for chunk in sorted.chunks(CHUNK) {
            let sql = format!(
                "SELECT token, spam, ham FROM bayes_tokens
                  WHERE domain = $1 AND token IN ({}) AND (spam > 0 OR ham > 0)",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(domain);
            for token in chunk {
                query = query.bind(token.as_str());
            }
            for row in query.fetch_all(&mut *conn).await? {
                counts.tokens.push((
                    row.try_get("token")?,
                    count(row.try_get("spam")?),
                    count(row.try_get("ham")?),
                ));
            }
        }
        Ok(counts)
    }

    async fn bayes_learned_as(&self, domain: &str, message: &str) -> Result<Option<SpamClass>> {
        let class: Option<i64> = sqlx::query_scalar(
            "SELECT CAST(class AS BIGINT) FROM bayes_learned WHERE domain = $1 AND message_hash = $2",
        )
        .bind(domain)
        .bind(message)
        .fetch_optional(&self.read)
        .await?;
        Ok(class.and_then(SpamClass::from_i64))
    }
}

//! `BDAT chunk-size [LAST]` (RFC 3030 CHUNKING): the content in counted chunks, no
//! dot-stuffing. The chunk's bytes follow the command whatever we answer, so they are always
//! read (and dropped when refused). A chunk that takes the message over the size limit is
//! answered `552 5.3.4` and ends the transaction (RFC 3030 §2: the client sends no more
//! chunks after an error). The last chunk is delivered like DATA (`cmd/data.rs`).

use smtp_proto::request::receiver::BdatReceiver;

use super::data::finish;
use crate::reply::Reply;
use crate::session::{Session, Stop};

pub(crate) async fn bdat(session: &mut Session, size: usize, last: bool) -> Result<(), Stop> {
    let refusal = match &session.transaction {
        None => Some(Reply::new(503, "5.5.1", "Need MAIL command")),
        Some(t) if t.recipients.is_empty() => Some(Reply::new(554, "5.5.1", "No valid recipients")),
        Some(_) => None,
    };
    let limit = session.max_message_size();
    let received = session
        .transaction
        .as_ref()
        .and_then(|t| t.chunks.as_ref())
        .map_or(0, Vec::len);
    let keep = refusal.is_none() && received.saturating_add(size) <= limit;
    let mut chunk = Vec::new();
    read_chunk(session, size, keep.then_some(&mut chunk)).await?;
    if let Some(reply) = refusal {
        session.reply(reply);
        return Ok(());
    }
    if !keep {
        session.transaction = None;
        tracing::info!(limit, "message refused: too big");
        session.reply(Reply::new(
            552,
            "5.3.4",
            format!("Message size exceeds fixed maximum message size of {limit} bytes"),
        ));
        return Ok(());
    }
    let Some(transaction) = &mut session.transaction else {
        return Ok(());
    };
    transaction
        .chunks
        .get_or_insert_with(Vec::new)
        .extend_from_slice(&chunk);
    if !last {
        session.reply(Reply::new(250, "2.0.0", format!("{size} octets received")));
        return Ok(());
    }
    let Some(mut transaction) = session.transaction.take() else {
        return Ok(());
    };
    let content = transaction.chunks.take().unwrap_or_default();
    finish(session, transaction, content, false).await;
    Ok(())
}

/// Reads exactly `size` bytes, into `into` or nowhere.
async fn read_chunk(
    session: &mut Session,
    size: usize,
    mut into: Option<&mut Vec<u8>>,
) -> Result<(), Stop> {
    let mut receiver = BdatReceiver::new(size, false);
    let mut sink = Vec::new();
    loop {
        let pending = session.input.pending();
        let mut bytes = pending.iter();
        let done = receiver.ingest(&mut bytes, &mut sink);
        let consumed = pending.len() - bytes.len();
        session.input.consume(consumed);
        if let Some(into) = &mut into {
            into.append(&mut sink);
        } else {
            sink.clear();
        }
        if done {
            return Ok(());
        }
        session.fill(false).await?;
    }
}

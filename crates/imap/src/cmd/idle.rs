//! IDLE (RFC 2177): the client waits for changes; the server reports them as they happen
//! until the client sends `DONE`.
//!
//! ```text
//! C: a IDLE
//! S: + idling
//! S: * 4 EXISTS
//! C: DONE
//! S: a OK IDLE terminated
//! ```
//!
//! A change notification for the selected mailbox wakes the session at once; every
//! [`RECHECK`] the mailbox is re-read anyway, in case a notification was missed (another
//! process changed the store). Shutdown and the idle timeout end the connection with `* BYE`.

use std::time::Duration;

use hopthu_core::MailEvent;
use imap_codec::IdleDoneCodec;
use imap_codec::decode::Decoder;
use imap_codec::imap_types::response::{CommandContinuationRequest, Response};
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;

use crate::errors::{CmdError, CmdResult, Done};
use crate::framing::Frame;
use crate::session::Session;
use crate::wire::Input;

/// How often an idling session re-reads its mailbox without a notification.
const RECHECK: Duration = Duration::from_secs(30);

enum Wake {
    Input(Input),
    Event(Result<MailEvent, RecvError>),
    Recheck,
    Shutdown,
    Timeout,
}

pub(crate) async fn run(s: &mut Session) -> CmdResult {
    if let Ok(cont) = CommandContinuationRequest::basic(None, "idling") {
        s.wire.push(&Response::CommandContinuationRequest(cont));
    }
    s.sync(true, false).await?;
    s.wire.flush().await?;
    let deadline = tokio::time::Instant::now() + s.idle_timeout;
    let mut recheck = tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
    loop {
        let wake = tokio::select! {
            input = s.wire.next_input(false) => Wake::Input(input),
            event = next_event(&mut s.events) => Wake::Event(event),
            _ = recheck.tick() => Wake::Recheck,
            _ = s.shutdown.cancelled() => Wake::Shutdown,
            _ = tokio::time::sleep_until(deadline) => Wake::Timeout,
        };
        match wake {
            Wake::Input(Input::Frame(Frame::Complete(line))) => {
                return match IdleDoneCodec::default().decode(&line) {
                    Ok(([], _)) => Done::ok("IDLE terminated"),
                    _ => Err(CmdError::Bad("Expected DONE".into())),
                };
            }
            Wake::Input(Input::Frame(_)) => return Err(CmdError::Bad("Expected DONE".into())),
            Wake::Input(Input::Closed) => return Err(CmdError::Closed),
            Wake::Event(Ok(event)) => {
                if s.selected
                    .as_ref()
                    .is_some_and(|sel| sel.id == event.mailbox)
                {
                    s.dirty = true;
                    s.sync(true, false).await?;
                }
            }
            Wake::Event(Err(RecvError::Lagged(_))) => {
                s.dirty = true;
                s.sync(true, false).await?;
            }
            Wake::Event(Err(RecvError::Closed)) => s.events = None,
            Wake::Recheck => {
                if !s.credentials_hold(true).await {
                    return Err(CmdError::Closed);
                }
                s.sync(true, true).await?
            }
            Wake::Shutdown => {
                s.bye("Server shutting down / may chu dang dung");
                return Err(CmdError::Closed);
            }
            Wake::Timeout => {
                s.bye("Idle timeout / het thoi gian cho");
                return Err(CmdError::Closed);
            }
        }
        if s.closing {
            return Err(CmdError::Closed);
        }
        s.wire.flush().await?;
    }
}

/// The next change notification; never resolves without a subscription.
async fn next_event(
    events: &mut Option<broadcast::Receiver<MailEvent>>,
) -> Result<MailEvent, RecvError> {
    match events {
        Some(events) => events.recv().await,
        None => std::future::pending().await,
    }
}

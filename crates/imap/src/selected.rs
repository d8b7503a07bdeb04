//! The selected mailbox as this session shows it: the messages in sequence order (sequence
//! number = position + 1), their UIDs and flags, and the modseq up to which changes have been
//! shown.
//!
//! Other sessions change the mailbox at any time; this view changes only when the session
//! applies a [`Changes`] read from the core, at moments where the client may be told
//! (RFC 3501 §5.2, §7.4.1). UIDs are ascending, so a UID is found by binary search.

use std::collections::HashMap;
use std::num::NonZeroU32;

use hopthu_core::{Changes, MessageIndex, MessageRecord};
use hopthu_model::{Flag, Flags, MailboxId, Uid};
use imap_codec::imap_types::sequence::{SeqOrUid, Sequence, SequenceSet};

/// At most this many keywords are listed in FLAGS (a mailbox has a handful; this bounds the
/// response when one has many).
pub(crate) const MAX_KEYWORDS: usize = 100;

/// A change to report to the client, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Update {
    /// `* n EXPUNGE` (the number as it is when this response is read), or the UID in
    /// `* VANISHED` under QRESYNC.
    Expunge { seq: u32, uid: Uid },
    /// `* n FETCH (UID u FLAGS (...) [MODSEQ (m)])`.
    Flags {
        seq: u32,
        uid: Uid,
        flags: Flags,
        modseq: u64,
    },
    /// `* n EXISTS`.
    Exists(u32),
}

#[derive(Debug)]
pub(crate) struct Selected {
    pub(crate) id: MailboxId,
    /// The name as stored (UTF-8); updated when the mailbox is renamed by this session.
    pub(crate) name: String,
    /// EXAMINE: no flag changes, no expunge (RFC 3501 §6.3.2).
    pub(crate) read_only: bool,
    pub(crate) uidvalidity: u32,
    /// Per message, in sequence order: UID, modseq and the position of its flags in
    /// `flag_sets` (parallel vectors; the blob, size and date are read from the core when a
    /// command needs them).
    uids: Vec<Uid>,
    modseqs: Vec<u64>,
    flags: Vec<u32>,
    /// Distinct flag sets, each once, and their storage form → position.
    flag_sets: Vec<Flags>,
    interned: HashMap<String, u32>,
    /// Changes up to this modseq are reflected in the view.
    pub(crate) modseq: u64,
    /// UID ranges (exclusive low, inclusive high) recent in this session (RFC 3501 §2.3.2).
    recent: Vec<(u32, u32)>,
    /// The highest UID this session has looked at for `\Recent`.
    recent_upto: u32,
    /// The keywords told to the client in FLAGS (RFC 3501 §7.2.6): at SELECT, and each one
    /// that came into use since (`announce_keywords`).
    announced: Vec<Flag>,
    /// The last `SEARCH RETURN (SAVE)` result, as UIDs, ascending (SEARCHRES, RFC 5182: what
    /// `$` stands for; an expunged message simply drops out).
    pub(crate) saved: Vec<Uid>,
    /// The RFC 4314 rights the session has here (all of them on one's own mailboxes; a
    /// delegate's on a unit mailbox): PERMANENTFLAGS follows them.
    pub(crate) rights: &'static str,
}

impl Selected {
    pub(crate) fn new(
        id: MailboxId,
        name: String,
        read_only: bool,
        uidvalidity: u32,
        index: MessageIndex,
    ) -> Self {
        let interned = index
            .flag_sets
            .iter()
            .enumerate()
            .map(|(i, f)| (f.to_storage(), i as u32))
            .collect();
        Selected {
            id,
            name,
            read_only,
            uidvalidity,
            uids: index.uids,
            modseqs: index.modseqs,
            flags: index.flags,
            flag_sets: index.flag_sets,
            interned,
            modseq: index.highestmodseq,
            recent: Vec::new(),
            recent_upto: 0,
            announced: Vec::new(),
            saved: Vec::new(),
            rights: hopthu_core::shared::ALL_RIGHTS,
        }
    }

    /// Takes every keyword in use that the client was not told about into the announced
    /// ones (at most [`MAX_KEYWORDS`]); true when there was one, and FLAGS must be sent again.
    pub(crate) fn announce_keywords(&mut self) -> bool {
        let mut grew = false;
        for set in &self.flag_sets {
            for flag in set.iter() {
                if matches!(flag, Flag::Keyword(_))
                    && self.announced.len() < MAX_KEYWORDS
                    && !self.announced.contains(flag)
                {
                    self.announced.push(flag.clone());
                    grew = true;
                }
            }
        }
        grew
    }

    /// The keywords the client was told about in FLAGS.
    pub(crate) fn announced_keywords(&self) -> &[Flag] {
        &self.announced
    }

    /// Marks the UIDs above `after` up to `upto` as recent in this session.
    /// (Ranges never overlap: what this session already looked at is not added twice, which
    /// matters for EXAMINE, whose mark does not move.)
    pub(crate) fn add_recent(&mut self, after: u32, upto: u32) {
        let after = after.max(self.recent_upto);
        if after < upto {
            self.recent.push((after, upto));
        }
        self.recent_upto = self.recent_upto.max(upto);
    }

    /// Whether a message is recent in this session.
    pub(crate) fn is_recent(&self, uid: Uid) -> bool {
        self.recent
            .iter()
            .any(|&(lo, hi)| uid.0 > lo && uid.0 <= hi)
    }

    /// How many messages of the view are recent in this session.
    pub(crate) fn recent_count(&self) -> u32 {
        self.recent
            .iter()
            .map(|&(lo, hi)| {
                let start = self.uids.partition_point(|u| u.0 <= lo);
                let end = self.uids.partition_point(|u| u.0 <= hi);
                (end - start) as u32
            })
            .sum()
    }

    /// The view as a snapshot other sessions can start from (see [`Views`]).
    pub(crate) fn snapshot(&self) -> MessageIndex {
        MessageIndex {
            uids: self.uids.clone(),
            modseqs: self.modseqs.clone(),
            flags: self.flags.clone(),
            flag_sets: self.flag_sets.clone(),
            highestmodseq: self.modseq,
        }
    }

    pub(crate) fn count(&self) -> u32 {
        self.uids.len() as u32
    }

    /// The UID at a position.
    pub(crate) fn uid(&self, index: usize) -> Uid {
        self.uids[index]
    }

    /// Every UID in sequence order.
    #[cfg(test)]
    pub(crate) fn uids(&self) -> &[Uid] {
        &self.uids
    }

    /// The flags at a position.
    pub(crate) fn flags(&self, index: usize) -> &Flags {
        &self.flag_sets[self.flags[index] as usize]
    }

    /// The modseq at a position.
    pub(crate) fn modseq_at(&self, index: usize) -> u64 {
        self.modseqs[index]
    }

    /// The distinct flag sets in use.
    #[cfg(test)]
    pub(crate) fn flag_sets(&self) -> impl Iterator<Item = &Flags> {
        self.flag_sets.iter()
    }

    fn intern(&mut self, flags: &Flags) -> u32 {
        let key = flags.to_storage();
        if let Some(&i) = self.interned.get(&key) {
            return i;
        }
        let i = self.flag_sets.len() as u32;
        self.flag_sets.push(flags.clone());
        self.interned.insert(key, i);
        i
    }

    fn push(&mut self, uid: Uid, flags: &Flags, modseq: u64) {
        let set = self.intern(flags);
        self.uids.push(uid);
        self.flags.push(set);
        self.modseqs.push(modseq);
    }

    /// Position of a UID in the view.
    pub(crate) fn index_of(&self, uid: Uid) -> Option<usize> {
        self.uids.binary_search(&uid).ok()
    }

    pub(crate) fn max_uid(&self) -> Option<Uid> {
        self.uids.last().copied()
    }

    /// Positions addressed by a sequence set (RFC 3501 §9 `sequence-set`), ascending and
    /// without duplicates. A message sequence number beyond the mailbox is an error (`BAD`);
    /// UIDs that do not exist are simply not matched, and `n:*` always includes the highest UID.
    pub(crate) fn resolve(&self, set: &SequenceSet, uid: bool) -> Result<Vec<usize>, String> {
        let count = self.count();
        let mut out = Vec::new();
        for sequence in set.0.as_ref() {
            let (a, b) = match sequence {
                Sequence::Single(x) => (x, x),
                Sequence::Range(a, b) => (a, b),
            };
            if uid {
                let Some(max) = self.max_uid() else { continue };
                let value = |x: &SeqOrUid| match x {
                    SeqOrUid::Value(v) => v.get(),
                    SeqOrUid::Asterisk => max.0,
                };
                let (lo, hi) = ordered(value(a), value(b));
                let start = self.uids.partition_point(|u| u.0 < lo);
                let end = self.uids.partition_point(|u| u.0 <= hi);
                out.extend(start..end);
            } else {
                let value = |x: &SeqOrUid| match x {
                    SeqOrUid::Value(v) => v.get(),
                    SeqOrUid::Asterisk => count,
                };
                if count == 0
                    && (matches!(a, SeqOrUid::Asterisk) || matches!(b, SeqOrUid::Asterisk))
                {
                    // `1:*` in an empty mailbox addresses nothing (clients do send it).
                    continue;
                }
                let (lo, hi) = ordered(value(a), value(b));
                if count == 0 || hi > count || lo == 0 {
                    return Err("invalid message sequence number".to_string());
                }
                out.extend((lo - 1) as usize..hi as usize);
            }
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Like [`Selected::resolve`] for SEARCH: numbers beyond the mailbox match nothing.
    pub(crate) fn matches_set(&self, set: &SequenceSet, uid: bool, index: usize) -> bool {
        let count = self.count();
        let me = if uid {
            self.uids[index].0
        } else {
            index as u32 + 1
        };
        let star = if uid {
            self.max_uid().map_or(0, |u| u.0)
        } else {
            count
        };
        set.0.as_ref().iter().any(|sequence| {
            let value = |x: &SeqOrUid| match x {
                SeqOrUid::Value(v) => v.get(),
                SeqOrUid::Asterisk => star,
            };
            let (lo, hi) = match sequence {
                Sequence::Single(x) => (value(x), value(x)),
                Sequence::Range(a, b) => ordered(value(a), value(b)),
            };
            (lo..=hi).contains(&me)
        })
    }

    /// Removes expunged UIDs, highest first so that every `EXPUNGE` number is also valid in
    /// the numbering the client had before (RFC 3501 §7.4.1). One pass over the view however
    /// many go.
    pub(crate) fn remove(&mut self, uids: &[Uid]) -> Vec<Update> {
        let mut positions: Vec<usize> = uids.iter().filter_map(|u| self.index_of(*u)).collect();
        if positions.is_empty() {
            return Vec::new();
        }
        positions.sort_unstable_by(|a, b| b.cmp(a));
        positions.dedup();
        let updates = positions
            .iter()
            .map(|&i| Update::Expunge {
                seq: i as u32 + 1,
                uid: self.uids[i],
            })
            .collect();
        let mut gone = vec![false; self.uids.len()];
        for &i in &positions {
            gone[i] = true;
        }
        let mut keep = gone.iter().map(|g| !g);
        self.uids.retain(|_| keep.next().unwrap_or(true));
        let mut keep = gone.iter().map(|g| !g);
        self.flags.retain(|_| keep.next().unwrap_or(true));
        let mut keep = gone.iter().map(|g| !g);
        self.modseqs.retain(|_| keep.next().unwrap_or(true));
        updates
    }

    /// Records new flags of messages this session changed itself.
    pub(crate) fn set_flags(&mut self, changed: &[MessageRecord]) {
        for record in changed {
            if let Some(i) = self.index_of(record.uid) {
                self.flags[i] = self.intern(&record.flags);
                self.modseqs[i] = record.modseq;
            }
        }
    }

    /// Applies what changed since `self.modseq`. When expunges may not be reported now
    /// (`allow_expunge` false during FETCH, STORE, SEARCH) and some are pending, nothing is
    /// applied: the same changes are read again at the next opportunity.
    pub(crate) fn apply(&mut self, changes: Changes, allow_expunge: bool) -> Option<Vec<Update>> {
        let expunged: Vec<Uid> = changes
            .expunged
            .iter()
            .copied()
            .filter(|u| self.index_of(*u).is_some())
            .collect();
        if !expunged.is_empty() && !allow_expunge {
            return None;
        }
        let before = self.count();
        let mut updates = self.remove(&expunged);
        let mut grew = false;
        for record in changes.changed {
            match self.index_of(record.uid) {
                Some(i) => {
                    if *self.flags(i) != record.flags {
                        self.flags[i] = self.intern(&record.flags);
                        updates.push(Update::Flags {
                            seq: i as u32 + 1,
                            uid: record.uid,
                            flags: record.flags,
                            modseq: record.modseq,
                        });
                    }
                    self.modseqs[i] = record.modseq;
                }
                None if self.max_uid().is_none_or(|max| record.uid > max) => {
                    self.push(record.uid, &record.flags, record.modseq);
                    grew = true;
                }
                // Older than what we know and not known: added and removed while we were
                // not looking, or a message we already saw expunged. Nothing to show.
                None => {}
            }
        }
        if grew || (self.count() != before && expunged.is_empty()) {
            updates.push(Update::Exists(self.count()));
        }
        self.modseq = self.modseq.max(changes.highestmodseq);
        Some(updates)
    }

    /// The first unseen message's sequence number (SELECT's `[UNSEEN n]`).
    pub(crate) fn first_unseen(&self) -> Option<NonZeroU32> {
        let unseen: Vec<bool> = self
            .flag_sets
            .iter()
            .map(|f| !f.contains(&hopthu_model::Flag::Seen))
            .collect();
        self.flags
            .iter()
            .position(|&set| unseen[set as usize])
            .and_then(|i| NonZeroU32::new(i as u32 + 1))
    }
}

/// The last view of each large mailbox any session built, shared by the sessions of one
/// listener: a SELECT starts from it and reads only what changed since (`changes_since`),
/// instead of the whole message index. One UID vector per mailbox in memory, ~16 bytes a
/// message; only mailboxes above [`Views::MIN_MESSAGES`] are kept, at most
/// [`Views::MAX_MESSAGES`] messages in all (~32 MB).
#[derive(Default)]
pub(crate) struct Views {
    map: std::sync::Mutex<HashMap<MailboxId, (u32, std::sync::Arc<MessageIndex>)>>,
}

impl Views {
    const MIN_MESSAGES: usize = 2000;
    const MAX_MESSAGES: usize = 2_000_000;

    /// The snapshot of a mailbox with this UIDVALIDITY, if one is kept.
    pub(crate) fn get(
        &self,
        id: MailboxId,
        uidvalidity: u32,
    ) -> Option<std::sync::Arc<MessageIndex>> {
        let map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&id)
            .filter(|(validity, _)| *validity == uidvalidity)
            .map(|(_, index)| index.clone())
    }

    /// Keeps the view a session has just brought up to date, when it is newer.
    pub(crate) fn put(&self, selected: &Selected) {
        if selected.uids.len() < Self::MIN_MESSAGES {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, known)) = map.get(&selected.id)
            && known.highestmodseq >= selected.modseq
        {
            return;
        }
        map.remove(&selected.id);
        // Over the budget, others go (any of them: the next SELECT of one reads its index).
        let mut total: usize = map.values().map(|(_, v)| v.uids.len()).sum();
        while total + selected.uids.len() > Self::MAX_MESSAGES {
            let Some(victim) = map.keys().next().copied() else {
                return; // this one alone is over the budget
            };
            if let Some((_, gone)) = map.remove(&victim) {
                total -= gone.uids.len();
            }
        }
        map.insert(
            selected.id,
            (
                selected.uidvalidity,
                std::sync::Arc::new(selected.snapshot()),
            ),
        );
    }

    /// Forgets a mailbox (deleted, or its snapshot could not be brought up to date).
    pub(crate) fn forget(&self, id: MailboxId) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }
}

fn ordered(a: u32, b: u32) -> (u32, u32) {
    if a <= b { (a, b) } else { (b, a) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::BlobId;

    fn record(uid: u32, flags: &str) -> MessageRecord {
        MessageRecord {
            uid: Uid(uid),
            blob: BlobId::of(b"x"),
            size: 1,
            internal_date: 0,
            flags: Flags::from_storage(flags),
            modseq: 1,
        }
    }

    fn view(uids: &[u32]) -> Selected {
        let index = MessageIndex {
            uids: uids.iter().map(|u| Uid(*u)).collect(),
            modseqs: vec![1; uids.len()],
            flags: vec![0; uids.len()],
            flag_sets: vec![Flags::new()],
            highestmodseq: 1,
        };
        Selected::new(MailboxId(1), "INBOX".into(), false, 1, index)
    }

    fn set(s: &str) -> SequenceSet {
        s.parse().unwrap()
    }

    #[test]
    fn recent_ranges_do_not_overlap() {
        let mut v = view(&[3, 5, 9, 10]);
        // SELECT claimed above 4; later looks (EXAMINE: mark unchanged) add nothing twice.
        v.add_recent(4, 9);
        v.add_recent(4, 10);
        v.add_recent(4, 10);
        assert_eq!(v.recent_count(), 3);
        assert!(!v.is_recent(Uid(3)) && v.is_recent(Uid(5)) && v.is_recent(Uid(10)));
        // Another session claimed up to 12 meanwhile: nothing new here.
        v.add_recent(12, 12);
        assert_eq!(v.recent_count(), 3);
    }

    #[test]
    fn resolves_sequence_and_uid_sets() {
        let v = view(&[3, 5, 9, 10]);
        for (input, uid, want) in [
            ("1", false, Ok(vec![0])),
            ("2:*", false, Ok(vec![1, 2, 3])),
            ("*:3", false, Ok(vec![2, 3])),
            ("1,1,2", false, Ok(vec![0, 1])),
            ("5", false, Err(())),
            ("5", true, Ok(vec![1])),
            ("4:9", true, Ok(vec![1, 2])),
            ("11:*", true, Ok(vec![3])),
            ("1:2", true, Ok(vec![])),
            ("*", true, Ok(vec![3])),
        ] {
            assert_eq!(
                v.resolve(&set(input), uid).map_err(|_| ()),
                want,
                "{input} uid={uid}"
            );
        }
        assert_eq!(view(&[]).resolve(&set("1:*"), false), Ok(vec![]));
        assert!(view(&[]).resolve(&set("1"), false).is_err());
        assert_eq!(view(&[]).resolve(&set("1:*"), true), Ok(vec![]));
        assert!(v.matches_set(&set("4:*"), false, 3));
        assert!(!v.matches_set(&set("7"), false, 3));
    }

    #[test]
    fn applies_changes_in_rfc_order() {
        let mut v = view(&[1, 2, 3, 4]);
        let changes = Changes {
            changed: vec![record(4, "\\Seen"), record(5, ""), record(6, "\\Flagged")],
            expunged: vec![2, 3, 42].into_iter().map(Uid).collect(),
            highestmodseq: 7,
        };
        // During FETCH/STORE/SEARCH the pending expunges hold everything back.
        assert_eq!(v.apply(changes.clone(), false), None);
        assert_eq!(v.count(), 4);
        let updates = v.apply(changes, true).unwrap();
        assert_eq!(
            updates,
            vec![
                Update::Expunge {
                    seq: 3,
                    uid: Uid(3)
                },
                Update::Expunge {
                    seq: 2,
                    uid: Uid(2)
                },
                Update::Flags {
                    seq: 2,
                    uid: Uid(4),
                    flags: Flags::from_iter([Flag::Seen]),
                    modseq: 1
                },
                Update::Exists(4),
            ]
        );
        assert_eq!(
            v.uids().iter().map(|u| u.0).collect::<Vec<_>>(),
            vec![1, 4, 5, 6]
        );
        assert_eq!(v.flags(1), &Flags::from_iter([Flag::Seen]));
        assert_eq!(v.flags(3), &Flags::from_iter([Flag::Flagged]));
        assert!(v.flags(0).is_empty());
        assert_eq!(v.modseq, 7);
        // The same changes again change nothing.
        let again = Changes {
            changed: vec![record(4, "\\Seen")],
            expunged: vec![Uid(2)],
            highestmodseq: 7,
        };
        assert_eq!(v.apply(again, false), Some(vec![]));
        assert_eq!(v.first_unseen(), NonZeroU32::new(1));
    }

    #[test]
    fn large_views_are_shared_and_brought_up_to_date() {
        let views = Views::default();
        let small = view(&[1, 2, 3]);
        views.put(&small);
        assert!(
            views.get(MailboxId(1), 1).is_none(),
            "small mailboxes are not kept"
        );
        let big = view(&(1..=3000).collect::<Vec<_>>());
        views.put(&big);
        let snapshot = views.get(MailboxId(1), 1).expect("kept");
        assert!(views.get(MailboxId(1), 2).is_none(), "another UIDVALIDITY");
        // A later session starts from it and applies what changed since.
        let mut next = Selected::new(MailboxId(1), "INBOX".into(), true, 1, (*snapshot).clone());
        let changes = Changes {
            changed: vec![record(5, "\\Seen"), record(3001, "")],
            expunged: vec![Uid(7)],
            highestmodseq: 9,
        };
        assert!(next.apply(changes, true).is_some());
        assert_eq!(next.count(), 3000);
        assert_eq!(next.max_uid(), Some(Uid(3001)));
        assert!(next.flags(4).contains(&Flag::Seen));
        views.put(&next);
        assert_eq!(views.get(MailboxId(1), 1).unwrap().highestmodseq, 9);
        // An older view does not replace a newer one.
        views.put(&big);
        assert_eq!(views.get(MailboxId(1), 1).unwrap().highestmodseq, 9);
        views.forget(MailboxId(1));
        assert!(views.get(MailboxId(1), 1).is_none());
    }

    #[test]
    fn removes_many_in_one_pass_and_interns_flags() {
        let mut v = view(&(1..=1000).collect::<Vec<_>>());
        let gone: Vec<Uid> = (1..=1000).filter(|u| u % 3 == 0).map(Uid).collect();
        let updates = v.remove(&gone);
        assert_eq!(updates.len(), 333);
        // Highest first, each number valid in the numbering before it.
        assert_eq!(
            updates[0],
            Update::Expunge {
                seq: 999,
                uid: Uid(999)
            }
        );
        assert_eq!(
            updates[332],
            Update::Expunge {
                seq: 3,
                uid: Uid(3)
            }
        );
        assert_eq!(v.count(), 667);
        assert!(v.uids().iter().all(|u| u.0 % 3 != 0));
        let seen = Flags::from_iter([Flag::Seen]);
        let changed: Vec<MessageRecord> = [1, 2, 4]
            .into_iter()
            .map(|u| MessageRecord {
                modseq: 9,
                ..record(u, "\\Seen")
            })
            .collect();
        v.set_flags(&changed);
        assert_eq!(v.flags(2), &seen);
        assert_eq!(v.modseq_at(2), 9);
        // One set for the three messages, besides the empty one.
        assert_eq!(v.flag_sets().count(), 2);
        assert_eq!(v.first_unseen(), NonZeroU32::new(4));
    }
}

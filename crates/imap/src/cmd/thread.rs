//! THREAD=REFERENCES and UID THREAD (RFC 5256 §3): the messages a SEARCH program matches,
//! grouped into conversations by Message-ID / References / In-Reply-To, then by base subject.
//!
//! ```text
//! C: a UID THREAD REFERENCES UTF-8 ALL
//! S: * THREAD (2)(3 6 (4 23)(44 7 96))
//! S: a OK THREAD completed
//! ```
//!
//! The references are read from the header of each matching message; dates and subjects
//! (folded, see `sort.rs`) come from the search index. ORDEREDSUBJECT is not offered.

use std::collections::HashMap;

use imap_codec::imap_types::core::Charset;
use imap_codec::imap_types::extensions::thread::ThreadingAlgorithm;
use imap_codec::imap_types::search::SearchKey;
use mail_parser::HeaderValue;

use super::search::{check_charset, matching};
use super::sort::base_subject;
use crate::errors::{CmdError, CmdResult, Done};
use crate::mime::Mime;
use crate::session::Session;

/// Messages whose headers are read per store query.
const CHUNK: usize = 256;

/// What threading needs of one message.
#[derive(Debug, Clone, Default)]
pub(crate) struct Item {
    /// The number to print (sequence number or UID).
    pub(crate) number: u32,
    pub(crate) message_id: Option<String>,
    /// References, or else In-Reply-To (RFC 5256 §3 step 1).
    pub(crate) references: Vec<String>,
    /// The folded subject as written.
    pub(crate) subject: String,
    /// The Date header, or the internal date.
    pub(crate) date: i64,
}

pub(crate) async fn run(
    s: &mut Session,
    algorithm: &ThreadingAlgorithm<'_>,
    charset: &Charset<'_>,
    criteria: &[SearchKey<'_>],
    uid: bool,
) -> CmdResult {
    if *algorithm != ThreadingAlgorithm::References {
        return Err(CmdError::Bad("Only THREAD=REFERENCES is supported".into()));
    }
    check_charset(Some(charset))?;
    let found = matching(s, criteria).await?;
    let principal = s.principal()?;
    let id = s.selected()?.id;
    let rows = s.core.sort_rows(&principal, id).await?;
    let mut items = Vec::with_capacity(found.positions.len());
    for chunk in found.positions.chunks(CHUNK) {
        let records = super::records_at(s, chunk).await?;
        for (&i, record) in chunk.iter().zip(records) {
            let selected = s.selected()?;
            let message_uid = selected.uid(i);
            let mut item = Item {
                number: if uid { message_uid.0 } else { i as u32 + 1 },
                ..Item::default()
            };
            if let Ok(k) = rows.binary_search_by_key(&message_uid, |r| r.uid) {
                item.subject = rows[k].subject.clone();
                item.date = rows[k].sent_at.unwrap_or(rows[k].internal_date);
            }
            if let Some(record) = record
                && let Ok(raw) = s.core.message_bytes(&record.blob).await
            {
                let mime = Mime::parse_headers(&raw);
                if let Some(m) = mime.message() {
                    item.message_id = m.message_id().map(str::to_string);
                    item.references = ids(m.references());
                    if item.references.is_empty() {
                        item.references = ids(m.in_reply_to());
                    }
                }
            }
            items.push(item);
        }
    }
    let mut line = String::from("* THREAD ");
    line.push_str(&threads(&items));
    line.push_str("\r\n");
    s.wire.push_raw(line.as_bytes());
    Done::ok("THREAD completed")
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

#[derive(Debug, Default)]
struct Node {
    /// Index in the items, or a dummy.
    item: Option<usize>,
    parent: Option<usize>,
    children: Vec<usize>,
}

struct Forest {
    nodes: Vec<Node>,
}

impl Forest {
    fn add(&mut self) -> usize {
        self.nodes.push(Node::default());
        self.nodes.len() - 1
    }

    /// Whether `a` is `b` or one of its ancestors.
    fn is_ancestor(&self, a: usize, b: usize) -> bool {
        let mut at = Some(b);
        let mut steps = 0;
        while let Some(n) = at {
            if n == a {
                return true;
            }
            at = self.nodes[n].parent;
            steps += 1;
            if steps > self.nodes.len() {
                return true; // never: links are loop-free; refuse rather than spin
            }
        }
        false
    }

    fn link(&mut self, parent: usize, child: usize) {
        self.nodes[child].parent = Some(parent);
        self.nodes[parent].children.push(child);
    }

    fn unlink(&mut self, child: usize) {
        if let Some(p) = self.nodes[child].parent.take() {
            self.nodes[p].children.retain(|&c| c != child);
        }
    }

    /// Step 4: dummies without children go, dummies with children give them to their parent
    /// (at the root only when they have just one).
    fn prune(&mut self, list: Vec<usize>, root: bool) -> Vec<usize> {
        let mut out = Vec::new();
        for n in list {
            let children = std::mem::take(&mut self.nodes[n].children);
            let children = self.prune(children, false);
            self.nodes[n].children = children;
            if self.nodes[n].item.is_some() {
                out.push(n);
                continue;
            }
            let count = self.nodes[n].children.len();
            if count == 0 {
                continue;
            }
            if root && count > 1 {
                out.push(n);
                continue;
            }
            let parent = self.nodes[n].parent;
            for c in std::mem::take(&mut self.nodes[n].children) {
                self.nodes[c].parent = parent;
                out.push(c);
            }
        }
        out
    }
}

/// RFC 5256 §3 REFERENCES over the items (in mailbox order): the THREAD response data.
pub(crate) fn threads(items: &[Item]) -> String {
    let mut f = Forest { nodes: Vec::new() };
    let mut by_id: HashMap<String, usize> = HashMap::new();
    let mut order = Vec::new();
    for (k, item) in items.iter().enumerate() {
        // Step 1A: link the references in order, never over an existing parent, never a loop.
        let mut prev: Option<usize> = None;
        for r in &item.references {
            let c = *by_id.entry(r.clone()).or_insert_with(|| {
                order.push(f.nodes.len());
                f.add()
            });
            if let Some(p) = prev
                && p != c
                && f.nodes[c].parent.is_none()
                && !f.is_ancestor(c, p)
            {
                f.link(p, c);
            }
            prev = Some(c);
        }
        // Step 1B: the message's own container (a duplicate Message-ID gets a new one).
        let own = match item.message_id.as_ref().and_then(|m| by_id.get(m)) {
            Some(&c) if f.nodes[c].item.is_none() => c,
            _ => {
                let c = f.add();
                order.push(c);
                if let Some(m) = &item.message_id {
                    by_id.entry(m.clone()).or_insert(c);
                }
                c
            }
        };
        f.nodes[own].item = Some(k);
        f.unlink(own);
        if let Some(p) = prev
            && !f.is_ancestor(own, p)
        {
            f.link(p, own);
        }
    }
    // Step 2: the roots.
    let roots: Vec<usize> = order
        .iter()
        .copied()
        .filter(|&n| f.nodes[n].parent.is_none())
        .collect();
    // Step 4.
    let roots = f.prune(roots, true);
    // Step 5: roots with the same base subject are gathered.
    let subject_of = |f: &Forest, n: usize| -> Option<(String, bool)> {
        let item = f.nodes[n]
            .item
            .or_else(|| f.nodes[n].children.first().and_then(|&c| f.nodes[c].item))?;
        let written = items[item].subject.trim();
        let base = base_subject(written);
        let reply = base.len()
            != written
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .len();
        (!base.is_empty()).then_some((base, reply))
    };
    let mut table: HashMap<String, usize> = HashMap::new();
    for &r in &roots {
        let Some((subject, reply)) = subject_of(&f, r) else {
            continue;
        };
        match table.get(&subject) {
            None => {
                table.insert(subject, r);
            }
            Some(&c) => {
                let c_dummy = f.nodes[c].item.is_none();
                let r_dummy = f.nodes[r].item.is_none();
                let c_reply = subject_of(&f, c).is_some_and(|(_, reply)| reply);
                // A dummy wins over a message; a message over a reply.
                let better = if r_dummy {
                    !c_dummy
                } else {
                    !c_dummy && c_reply && !reply
                };
                if better {
                    table.insert(subject, r);
                }
            }
        }
    }
    let mut merged: Vec<Option<usize>> = roots.iter().map(|&r| Some(r)).collect();
    for slot in 0..merged.len() {
        let Some(r) = merged[slot] else { continue };
        let Some((subject, reply)) = subject_of(&f, r) else {
            continue;
        };
        let Some(&c) = table.get(&subject) else {
            continue;
        };
        if c == r {
            continue;
        }
        let c_dummy = f.nodes[c].item.is_none();
        let r_dummy = f.nodes[r].item.is_none();
        if c_dummy && r_dummy {
            for child in std::mem::take(&mut f.nodes[r].children) {
                f.link(c, child);
            }
            merged[slot] = None;
        } else if c_dummy || (reply && !subject_of(&f, c).is_some_and(|(_, reply)| reply)) {
            // Into the dummy, or a reply under the original.
            f.link(c, r);
            merged[slot] = None;
        } else {
            // Neither is the other's reply: a new dummy holds both where `c` was.
            let d = f.add();
            let at = merged.iter().position(|m| *m == Some(c));
            f.link(d, c);
            f.link(d, r);
            if let Some(at) = at {
                merged[at] = Some(d);
            }
            merged[slot] = None;
            table.insert(subject, d);
        }
    }
    let mut roots: Vec<usize> = merged.into_iter().flatten().collect();
    // Step 6: siblings by date (a dummy by its first child), ties in mailbox order.
    fn key(f: &Forest, items: &[Item], n: usize) -> (i64, usize) {
        match f.nodes[n].item {
            Some(k) => (items[k].date, k),
            None => f.nodes[n]
                .children
                .first()
                .map_or((0, 0), |&c| key(f, items, c)),
        }
    }
    fn sort(f: &mut Forest, items: &[Item], n: usize) {
        let mut children = std::mem::take(&mut f.nodes[n].children);
        for &c in &children {
            sort(f, items, c);
        }
        children.sort_by_key(|&c| key(f, items, c));
        f.nodes[n].children = children;
    }
    for &r in &roots {
        sort(&mut f, items, r);
    }
    roots.sort_by_key(|&r| key(&f, items, r));
    fn write(f: &Forest, items: &[Item], n: usize, out: &mut String) {
        if let Some(k) = f.nodes[n].item {
            out.push_str(&items[k].number.to_string());
            match f.nodes[n].children.as_slice() {
                [] => {}
                [only] => {
                    out.push(' ');
                    write(f, items, *only, out);
                }
                many => {
                    out.push(' ');
                    for &c in many {
                        out.push('(');
                        write(f, items, c, out);
                        out.push(')');
                    }
                }
            }
        } else {
            for &c in &f.nodes[n].children {
                out.push('(');
                write(f, items, c, out);
                out.push(')');
            }
        }
    }
    let mut out = String::new();
    for r in roots {
        out.push('(');
        write(&f, items, r, &mut out);
        out.push(')');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: u32, id: &str, refs: &[&str], subject: &str, date: i64) -> Item {
        Item {
            number: n,
            message_id: Some(id.to_string()),
            references: refs.iter().map(|r| r.to_string()).collect(),
            subject: subject.to_string(),
            date,
        }
    }

    #[test]
    fn threads_by_references_then_subject() {
        let items = vec![
            item(1, "a", &[], "giay moi hop", 10),
            item(2, "b", &["a"], "re: giay moi hop", 20),
            item(3, "c", &["a", "b"], "re: giay moi hop", 30),
            item(4, "d", &["a"], "re: giay moi hop", 25),
            item(5, "e", &[], "bao cao", 5),
            // Its parent is missing: a dummy at first, pruned away.
            item(6, "f", &["zzz"], "ke hoach", 40),
            // Same subject, no references: joined as a reply of 1.
            item(7, "g", &[], "re: giay moi hop", 50),
            // A loop in the references does not hang or lose messages.
            item(8, "h", &["h", "i"], "vong", 60),
        ];
        assert_eq!(threads(&items), "(5)(1 (2 3)(4)(7))(6)(8)");
        assert_eq!(threads(&[]), "");
    }

    #[test]
    fn two_originals_with_one_subject_share_a_dummy() {
        let items = vec![
            item(1, "a", &[], "thong bao", 10),
            item(2, "b", &[], "thong bao", 20),
        ];
        assert_eq!(threads(&items), "((1)(2))");
    }
}

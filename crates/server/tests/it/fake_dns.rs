//! A tiny DNS server on 127.0.0.1 (UDP, a thread of the test process), so no test server ever
//! asks the machine's resolver. Every [`TestServer`](super::harness::TestServer) gets the
//! shared one ([`FakeDns::shared`], NXDOMAIN to everything) unless its configuration names
//! resolvers of its own; a test that needs records, silence or a count of queries starts its
//! own with [`FakeDns::start`].
//!
//! Wire format (RFC 1035 §4): the answer repeats the query's id and question; records use a
//! compression pointer to the question's name; negative answers carry an SOA in the authority
//! section (RFC 2308 §3) so resolvers may cache them.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Record types the responder knows by name.
pub const A: u16 = 1;
pub const MX: u16 = 15;
pub const TXT: u16 = 16;
pub const AAAA: u16 = 28;

/// TTL of every record and of negative answers (seconds).
pub const TTL: u32 = 300;

/// What to do with one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// No such name (RCODE 3), with an SOA.
    NxDomain,
    /// The name exists but has no record of this type (RCODE 0, no answer, an SOA).
    NoData,
    /// RCODE 5.
    Refused,
    /// No answer at all: the query is dropped, as by a dead resolver.
    Swallow,
    /// One TXT record (split into strings of at most 255 octets).
    Txt(String),
    /// A records.
    A(Vec<Ipv4Addr>),
    /// One MX record: preference and exchange.
    Mx(u16, String),
}

type Rule = dyn Fn(&str, u16) -> Answer + Send + Sync;

/// A running responder; stops when dropped.
pub struct FakeDns {
    addr: SocketAddr,
    queries: Arc<Mutex<Vec<(String, u16)>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeDns {
    /// Starts a responder answering each query (name in lower case without the final dot,
    /// type) with `rule`.
    pub fn start(rule: impl Fn(&str, u16) -> Answer + Send + Sync + 'static) -> FakeDns {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let addr = socket.local_addr().unwrap();
        let queries = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let rule: Box<Rule> = Box::new(rule);
        let thread = {
            let queries = queries.clone();
            let stop = stop.clone();
            std::thread::spawn(move || serve(&socket, &*rule, &queries, &stop))
        };
        FakeDns {
            addr,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    /// NXDOMAIN to every query.
    pub fn nxdomain() -> FakeDns {
        Self::start(|_, _| Answer::NxDomain)
    }

    /// Never answers.
    pub fn swallow() -> FakeDns {
        Self::start(|_, _| Answer::Swallow)
    }

    /// The TXT records in `records` (name → text), NXDOMAIN for every other name.
    pub fn txt(records: HashMap<String, String>) -> FakeDns {
        Self::start(move |name, qtype| match records.get(name) {
            Some(text) if qtype == TXT => Answer::Txt(text.clone()),
            Some(_) => Answer::NoData,
            None => Answer::NxDomain,
        })
    }

    /// The responder every test server uses unless told otherwise (NXDOMAIN to everything),
    /// alive for the whole test run.
    pub fn shared() -> &'static FakeDns {
        static SHARED: OnceLock<FakeDns> = OnceLock::new();
        SHARED.get_or_init(FakeDns::nxdomain)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `[dns]` naming this responder.
    pub fn config(&self) -> String {
        format!("[dns]\nresolvers = [\"127.0.0.1:{}\"]\n", self.port())
    }

    /// Every query received so far: (name, type).
    pub fn queries(&self) -> Vec<(String, u16)> {
        self.queries.lock().unwrap().clone()
    }

    pub fn query_count(&self) -> usize {
        self.queries.lock().unwrap().len()
    }
}

impl Drop for FakeDns {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(socket: &UdpSocket, rule: &Rule, queries: &Mutex<Vec<(String, u16)>>, stop: &AtomicBool) {
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, peer)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let Some(query) = Query::parse(&buf[..n]) else {
            continue;
        };
        queries
            .lock()
            .unwrap()
            .push((query.name.clone(), query.qtype));
        let answer = rule(&query.name, query.qtype);
        if answer == Answer::Swallow {
            continue;
        }
        let _ = socket.send_to(&query.respond(&buf[..n], &answer), peer);
    }
}

/// The parts of a query the answer needs.
struct Query {
    id: [u8; 2],
    rd: bool,
    name: String,
    qtype: u16,
    /// End of the question section in the query.
    question_end: usize,
}

impl Query {
    fn parse(packet: &[u8]) -> Option<Query> {
        if packet.len() < 12 || packet[2] & 0x80 != 0 || packet[4..6] != [0, 1] {
            return None;
        }
        let mut labels = Vec::new();
        let mut at = 12;
        loop {
            let len = *packet.get(at)? as usize;
            at += 1;
            if len == 0 {
                break;
            }
            if len > 63 {
                return None;
            }
            labels.push(String::from_utf8_lossy(packet.get(at..at + len)?).to_ascii_lowercase());
            at += len;
        }
        let fixed = packet.get(at..at + 4)?;
        Some(Query {
            id: [packet[0], packet[1]],
            rd: packet[2] & 0x01 != 0,
            name: labels.join("."),
            qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
            question_end: at + 4,
        })
    }

    fn respond(&self, packet: &[u8], answer: &Answer) -> Vec<u8> {
        let rcode = match answer {
            Answer::NxDomain => 3,
            Answer::Refused => 5,
            _ => 0,
        };
        let mut records: Vec<(u16, Vec<u8>)> = Vec::new();
        match answer {
            Answer::Txt(text) => {
                let mut rdata = Vec::new();
                for chunk in text.as_bytes().chunks(255) {
                    rdata.push(chunk.len() as u8);
                    rdata.extend_from_slice(chunk);
                }
                records.push((TXT, rdata));
            }
            Answer::A(ips) => {
                for ip in ips {
                    records.push((A, ip.octets().to_vec()));
                }
            }
            Answer::Mx(preference, exchange) => {
                let mut rdata = preference.to_be_bytes().to_vec();
                rdata.extend_from_slice(&encode_name(exchange));
                records.push((MX, rdata));
            }
            _ => {}
        }
        let negative = matches!(answer, Answer::NxDomain | Answer::NoData);
        let mut out = Vec::with_capacity(512);
        out.extend_from_slice(&self.id);
        // QR, AA, RD as asked; RA; RCODE.
        out.push(0x84 | u8::from(self.rd));
        out.push(0x80 | rcode);
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&(records.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, u8::from(negative), 0, 0]);
        out.extend_from_slice(&packet[12..self.question_end]);
        for (rtype, rdata) in records {
            out.extend_from_slice(&[0xC0, 0x0C]);
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&[0, 1]);
            out.extend_from_slice(&TTL.to_be_bytes());
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        if negative {
            // SOA of the root: MNAME ".", RNAME ".", serial, refresh, retry, expire, minimum.
            out.push(0);
            out.extend_from_slice(&6u16.to_be_bytes());
            out.extend_from_slice(&[0, 1]);
            out.extend_from_slice(&TTL.to_be_bytes());
            let mut rdata = vec![0, 0];
            for v in [1u32, 3600, 600, 86400, TTL] {
                rdata.extend_from_slice(&v.to_be_bytes());
            }
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        out
    }
}

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

#[test]
fn answers_txt_and_nxdomain_and_counts() {
    let dns = FakeDns::txt(HashMap::from([(
        "sender.example".to_string(),
        "v=spf1 -all".to_string(),
    )]));
    // A query for sender.example TXT, id 0x1234, RD.
    let mut query = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    query.extend_from_slice(&encode_name("Sender.Example."));
    query.extend_from_slice(&[0, 16, 0, 1]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    socket.send_to(&query, ("127.0.0.1", dns.port())).unwrap();
    let mut buf = [0u8; 512];
    let n = socket.recv(&mut buf).unwrap();
    let answer = &buf[..n];
    assert_eq!(&answer[..4], &[0x12, 0x34, 0x85, 0x80]);
    assert_eq!(&answer[6..8], &[0, 1], "one answer");
    assert!(answer.ends_with(b"\x0bv=spf1 -all"), "{answer:?}");
    // Another name: NXDOMAIN with an SOA.
    let mut other = query[..12].to_vec();
    other.extend_from_slice(&encode_name("Nothere.Example."));
    other.extend_from_slice(&[0, 16, 0, 1]);
    socket.send_to(&other, ("127.0.0.1", dns.port())).unwrap();
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(buf[3] & 0x0f, 3, "NXDOMAIN");
    assert_eq!(&buf[8..10], &[0, 1], "one authority record");
    assert!(n > other.len());
    assert_eq!(
        dns.queries(),
        [
            ("sender.example".to_string(), TXT),
            ("nothere.example".to_string(), TXT)
        ]
    );
}

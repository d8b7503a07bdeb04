//! Asking an rspamd daemon (`[antispam] rspamd_url`): `POST /checkv2` with the message as the
//! body and what the session knows as headers (`IP`, `Helo`, `From`, `Rcpt`, `Hostname`), over
//! plain HTTP/1.1 to a daemon on a trusted network (usually the same host). The answer's
//! `score` is added to ours. Anything else — no answer within `rspamd_timeout`, a status other
//! than 200, a body that is not rspamd's JSON — adds nothing and is logged: rspamd is a help,
//! never a reason to lose or delay mail.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest answer read (rspamd's JSON with every symbol is a few KiB).
const MAX_ANSWER: usize = 1024 * 1024;

/// What the session tells rspamd about the message.
pub struct Request<'a> {
    pub ip: std::net::IpAddr,
    pub helo: &'a str,
    pub mail_from: &'a str,
    pub recipients: &'a [String],
    pub hostname: &'a str,
    pub message: &'a [u8],
}

/// rspamd's score for the message, or why there is none.
pub async fn check(url: &str, timeout: Duration, request: &Request<'_>) -> Result<f64, String> {
    tokio::time::timeout(timeout, ask(url, request))
        .await
        .map_err(|_| format!("no answer within {timeout:?}"))?
}

async fn ask(url: &str, r: &Request<'_>) -> Result<f64, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: not an http:// URL"))?;
    let (authority, base) = match rest.find('/') {
        Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
        None => (rest, ""),
    };
    let address = if authority.contains(':') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .map_err(|e| format!("connect {address}: {e}"))?;
    // Header values come from the session; nothing with a line end goes into a header.
    let clean = |s: &str| s.replace(['\r', '\n'], "");
    let mut head = format!(
        "POST {base}/checkv2 HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\
         Content-Length: {}\r\nIP: {}\r\nHelo: {}\r\nHostname: {}\r\n",
        r.message.len(),
        r.ip,
        clean(r.helo),
        clean(r.hostname),
    );
    if !r.mail_from.is_empty() {
        head.push_str(&format!("From: {}\r\n", clean(r.mail_from)));
    }
    for rcpt in r.recipients {
        head.push_str(&format!("Rcpt: {}\r\n", clean(rcpt)));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream
        .write_all(r.message)
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    (&mut stream)
        .take(MAX_ANSWER as u64)
        .read_to_end(&mut answer)
        .await
        .map_err(|e| e.to_string())?;
    score_of(&answer)
}

/// The score in an HTTP answer carrying rspamd's JSON.
fn score_of(answer: &[u8]) -> Result<f64, String> {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no HTTP header in the answer")?;
    let head = String::from_utf8_lossy(&answer[..split]);
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("answered {status:?}"));
    }
    let mut body = answer[split + 4..].to_vec();
    if head.lines().any(|l| {
        l.to_ascii_lowercase()
            .replace(' ', "")
            .starts_with("transfer-encoding:chunked")
    }) {
        body = dechunk(&body).ok_or("a chunked body that does not parse")?;
    }
    let json: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| format!("not JSON: {e}"))?;
    json.get("score")
        .and_then(serde_json::Value::as_f64)
        .filter(|s| s.is_finite())
        .ok_or_else(|| "no score in the answer".to_string())
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&body[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        body = &body[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A daemon answering one request with `answer`; returns its URL and what it received.
    async fn daemon(answer: &'static str) -> (String, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            // Read the head and the announced body.
            loop {
                let n = socket.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got).to_string();
                if let Some(split) = text.find("\r\n\r\n") {
                    let length: usize = text
                        .lines()
                        .find_map(|l| l.strip_prefix("Content-Length: "))
                        .unwrap()
                        .parse()
                        .unwrap();
                    if got.len() >= split + 4 + length {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            socket.write_all(answer.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&got).to_string()
        });
        (url, task)
    }

    fn request<'a>(rcpts: &'a [String]) -> Request<'a> {
        Request {
            ip: "192.0.2.7".parse().unwrap(),
            helo: "mx.sender.example",
            mail_from: "a@sender.example",
            recipients: rcpts,
            hostname: "mail.x.vn",
            message: b"Subject: hi\r\n\r\nbody\r\n",
        }
    }

    #[tokio::test]
    async fn the_score_of_rspamd_is_read() {
        let rcpts = vec!["b@x.vn".to_string()];
        let (url, seen) = daemon(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n\
             {\"score\": 7.25, \"required_score\": 15, \"action\": \"add header\"}",
        )
        .await;
        let score = check(&url, Duration::from_secs(5), &request(&rcpts))
            .await
            .unwrap();
        assert_eq!(score, 7.25);
        let seen = seen.await.unwrap();
        assert!(seen.starts_with("POST /checkv2 HTTP/1.1\r\n"), "{seen}");
        for header in ["IP: 192.0.2.7", "From: a@sender.example", "Rcpt: b@x.vn"] {
            assert!(seen.contains(header), "{header}: {seen}");
        }
        assert!(
            seen.ends_with("\r\n\r\nSubject: hi\r\n\r\nbody\r\n"),
            "{seen}"
        );
        // Chunked answers too.
        let (url, _) = daemon(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
             5\r\n{\"sco\r\nA\r\nre\": -1.5}\r\n0\r\n\r\n",
        )
        .await;
        let score = check(&url, Duration::from_secs(5), &request(&rcpts))
            .await
            .unwrap();
        assert_eq!(score, -1.5);
    }

    #[tokio::test]
    async fn failures_give_no_score() {
        let rcpts = Vec::new();
        let (url, _) = daemon("HTTP/1.1 500 Internal Server Error\r\n\r\n").await;
        assert!(
            check(&url, Duration::from_secs(5), &request(&rcpts))
                .await
                .is_err()
        );
        // Nobody listening.
        let free = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", free.local_addr().unwrap());
        drop(free);
        assert!(
            check(&url, Duration::from_secs(5), &request(&rcpts))
                .await
                .is_err()
        );
        // Silence: the timeout.
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", silent.local_addr().unwrap());
        let err = check(&url, Duration::from_millis(200), &request(&rcpts))
            .await
            .unwrap_err();
        assert!(err.contains("no answer"), "{err}");
        drop(silent);
    }
}

//! Message bodies in an S3-compatible store (`[blobs] url = "s3://…"`), against a real one:
//! the Garage `tools/test` starts (`tools/garage`). Each test has a key prefix of its own in
//! the run's bucket. The bucket is looked at with curl's own SigV4 signing, not through
//! hopthu's code.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};

use super::harness::{TestServer, s3_blobs_table, s3_env, unique_s3_prefix};
use super::needs;

const PW: &str = "mat-khau-s3";

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The run's bucket, through curl.
struct Bucket {
    endpoint: String,
    bucket: String,
    region: String,
    user: String,
}

impl Bucket {
    fn from_env() -> Bucket {
        Bucket {
            endpoint: s3_env("ENDPOINT"),
            bucket: s3_env("BUCKET"),
            region: s3_env("REGION"),
            user: format!("{}:{}", s3_env("ACCESS_KEY"), s3_env("SECRET_KEY")),
        }
    }

    /// One signed request; the status and the body.
    fn request(&self, method: &str, path_and_query: &str, upload: Option<&Path>) -> (u16, Vec<u8>) {
        let out_file = std::env::temp_dir().join(format!("hopthu-s3-{}", rand::random::<u64>()));
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-o"])
            .arg(&out_file)
            .args(["-w", "%{http_code}", "--max-time", "30"])
            .args(["--aws-sigv4", &format!("aws:amz:{}:s3", self.region)])
            .args(["--user", &self.user])
            // curl 7.88 signs but does not send the payload hash S3 (Garage) asks for.
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]);
        if let Some(file) = upload {
            cmd.arg("--data-binary")
                .arg(format!("@{}", file.display()))
                .args(["-H", "Content-Type: application/octet-stream"]);
        }
        // Query parameters sorted and `/` escaped: curl signs the query as written.
        let url = format!("{}/{}/{path_and_query}", self.endpoint, self.bucket);
        assert!(
            url.starts_with("http://127."),
            "S3 tests stay on loopback: {url}"
        );
        let out = cmd.arg(&url).output().expect("curl");
        assert!(out.status.success(), "curl {method} {url}: {}", text(&out));
        let code = String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .unwrap_or(0);
        let body = std::fs::read(&out_file).unwrap_or_default();
        let _ = std::fs::remove_file(&out_file);
        (code, body)
    }

    /// The object under `key`, or `None` when there is none.
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        match self.request("GET", key, None) {
            (200, body) => Some(body),
            (404, _) => None,
            (code, body) => panic!("GET {key}: {code} {}", String::from_utf8_lossy(&body)),
        }
    }

    fn put(&self, key: &str, bytes: &[u8]) {
        let file = std::env::temp_dir().join(format!("hopthu-s3-up-{}", rand::random::<u64>()));
        std::fs::write(&file, bytes).unwrap();
        let (code, body) = self.request("PUT", key, Some(&file));
        let _ = std::fs::remove_file(&file);
        assert_eq!(code, 200, "PUT {key}: {}", String::from_utf8_lossy(&body));
    }

    /// The `Last-Modified` header of the object under `key`.
    fn last_modified(&self, key: &str) -> String {
        let url = format!("{}/{}/{key}", self.endpoint, self.bucket);
        let out = Command::new("curl")
            .args(["-sS", "-I", "--max-time", "30"])
            .args(["--aws-sigv4", &format!("aws:amz:{}:s3", self.region)])
            .args(["--user", &self.user])
            .args(["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
            .arg(&url)
            .output()
            .expect("curl");
        let head = String::from_utf8_lossy(&out.stdout).into_owned();
        head.lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("last-modified")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_else(|| panic!("no Last-Modified for {key}: {head}"))
    }

    /// Every key under `prefix/`.
    fn keys(&self, prefix: &str) -> Vec<String> {
        let (code, body) = self.request("GET", &format!("?list-type=2&prefix={prefix}%2F"), None);
        let body = String::from_utf8_lossy(&body).into_owned();
        assert_eq!(code, 200, "list {prefix}: {body}");
        assert!(
            !body.contains("<IsTruncated>true"),
            "more keys than a test makes"
        );
        body.split("<Key>")
            .skip(1)
            .filter_map(|s| s.split_once("</Key>").map(|(k, _)| k.to_string()))
            .collect()
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The content-addressed key of `bytes` under `prefix`.
fn key_of(prefix: &str, bytes: &[u8]) -> String {
    let h = sha256(bytes);
    format!("{prefix}/{}/{}/{h}", &h[0..2], &h[2..4])
}

/// A server whose bodies are in the bucket under a fresh prefix.
fn s3_server() -> (TestServer, String) {
    let prefix = unique_s3_prefix();
    let server = TestServer::start_with(&s3_blobs_table(&prefix));
    (server, prefix)
}

/// Every INBOX message of `address`, byte for byte as IMAP returns it, in UID order.
fn fetch_inbox(server: &TestServer, address: &str) -> Vec<Vec<u8>> {
    let dir = server
        .dir
        .join(format!("fetched-{}", rand::random::<u32>()));
    std::fs::create_dir_all(&dir).unwrap();
    let uids = server.python(
        "s3_mail.py",
        &["fetch", address, PW, &dir.display().to_string()],
    );
    let out = uids
        .lines()
        .map(|uid| std::fs::read(dir.join(format!("{}.eml", uid.trim()))).unwrap())
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

fn send(server: &TestServer, from: &str, marker: &str, kib: u32, to: &str) {
    let out = server.python(
        "s3_mail.py",
        &["send", from, PW, marker, &kib.to_string(), to],
    );
    assert!(out.contains("sent"), "{out}");
}

/// Message files of the local blob folder (there must be none with S3 blobs).
fn local_bodies(data_dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![data_dir.join("blobs")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                dirs.push(entry.path());
            } else if !entry.file_name().to_string_lossy().starts_with('.') {
                out.push(entry.path());
            }
        }
    }
    out
}

/// Mail received by SMTP is stored in the bucket under `PREFIX/ab/cd/<sha256>` before the
/// 250, and IMAP returns exactly the object's bytes; nothing lands in the local blob folder;
/// `/healthz` reaches the bucket.
#[test]
fn mail_bodies_are_objects_in_the_bucket() {
    if !needs::require(&[needs::S3]) {
        return;
    }
    let (server, prefix) = s3_server();
    let from = server.add_account("guis3", "Người Gửi", PW);
    let to = server.add_account("nhans3", "Người Nhận", PW);
    send(&server, &from, "s3-lon", 600, &to);
    send(&server, &from, "s3-nho", 1, &to);
    let fetched = fetch_inbox(&server, &to);
    assert_eq!(fetched.len(), 2);
    assert!(fetched[0].len() > 600 * 1024, "{}", fetched[0].len());
    let bucket = Bucket::from_env();
    for (body, marker) in fetched.iter().zip(["s3-lon", "s3-nho"]) {
        assert!(
            body.windows(marker.len()).any(|w| w == marker.as_bytes()),
            "{marker} not in the fetched message"
        );
        let object = bucket
            .get(&key_of(&prefix, body))
            .unwrap_or_else(|| panic!("no object for {marker} under {prefix}"));
        assert!(
            object == *body,
            "{marker}: the object differs from what IMAP returned"
        );
    }
    let mut keys = bucket.keys(&prefix);
    keys.sort();
    let mut expected: Vec<String> = fetched.iter().map(|b| key_of(&prefix, b)).collect();
    expected.sort();
    assert_eq!(keys, expected, "only the two bodies, under their names");
    assert_eq!(local_bodies(&server.data_dir()), Vec::<PathBuf>::new());
    let (head, body) = server.http(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_secs(10),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}\n{body}");
}

/// The collector on S3: referenced bodies stay, an expunged body and an object no row names
/// go once older than the grace period, young ones stay, and the mailbox reads afterwards.
#[test]
fn the_collector_deletes_unreferenced_objects_only() {
    if !needs::require(&[needs::S3]) {
        return;
    }
    let (server, prefix) = s3_server();
    let from = server.add_account("guigc", "Người Gửi", PW);
    let to = server.add_account("nhangc", "Người Nhận", PW);
    send(&server, &from, "s3-gc-giu", 4, &to);
    send(&server, &from, "s3-gc-xoa", 4, &to);
    let fetched = fetch_inbox(&server, &to);
    let (kept, dropped) = (key_of(&prefix, &fetched[0]), key_of(&prefix, &fetched[1]));
    // An object nobody refers to (a crash between put and commit).
    let orphan_bytes = b"Subject: mo coi\r\n\r\nkhong ai giu\r\n";
    let orphan = key_of(&prefix, orphan_bytes);
    let bucket = Bucket::from_env();
    bucket.put(&orphan, orphan_bytes);

    let gc = |args: &[&str]| {
        let mut all = vec!["blobs", "gc"];
        all.extend_from_slice(args);
        let out = server.cli(&all, "");
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
    };
    // Within the grace period nothing goes.
    let out = gc(&[]);
    assert!(
        out.contains("freed: 0 ") && out.contains("1 chưa đủ hạn"),
        "{out}"
    );
    // The collector adds a second to the grace period (Last-Modified is in whole seconds).
    let past_grace_zero = || std::thread::sleep(std::time::Duration::from_millis(1100));
    past_grace_zero();
    // Referenced bodies stay whatever their age.
    let out = gc(&["--grace", "0", "--dry-run"]);
    assert!(out.contains("would free: 1 "), "{out}");
    assert!(bucket.get(&orphan).is_some(), "a dry run deletes nothing");

    // An APPENDed message: its bytes (and so its key) are known here.
    let appended = format!("Subject: s3-gc-lai\r\nFrom: <{to}>\r\n\r\nNoi dung s3-gc-lai.\r\n");
    let appended_key = key_of(&prefix, appended.as_bytes());
    let append = || server.python("blob_mail.py", &["append", &to, PW, "INBOX", "s3-gc-lai"]);
    append();
    assert!(bucket.get(&appended_key).is_some());

    for marker in ["s3-gc-xoa", "s3-gc-lai"] {
        let expunged = server.python("blob_mail.py", &["expunge", &to, PW, "INBOX", marker]);
        assert_eq!(expunged.trim(), "1");
    }
    // A running backup (its lease, in data_dir/blobs as with local bodies) stops the collector.
    let lease = std::fs::File::open(server.data_dir().join("blobs/.backup-lease")).unwrap();
    lease.lock_shared().unwrap();
    let busy = server.cli(&["blobs", "gc", "--grace", "0"], "");
    assert!(
        !busy.status.success() && text(&busy).contains("a backup"),
        "{}",
        text(&busy)
    );
    assert!(
        bucket.get(&dropped).is_some(),
        "deleted under a running backup"
    );
    drop(lease);
    past_grace_zero();
    let out = gc(&["--grace", "0"]);
    assert!(out.contains("freed: 3 "), "{out}");
    assert!(bucket.get(&appended_key).is_none());
    assert!(bucket.get(&orphan).is_none(), "the orphan is still there");
    assert!(
        bucket.get(&dropped).is_none(),
        "the expunged body is still there"
    );
    assert_eq!(bucket.get(&kept).as_deref(), Some(&fetched[0][..]));
    assert_eq!(
        server
            .python("blob_mail.py", &["read", &to, PW, "INBOX"])
            .trim(),
        "1"
    );
    // The same body stored again is written anew and readable.
    append();
    assert_eq!(
        bucket.get(&appended_key).as_deref(),
        Some(appended.as_bytes())
    );
    assert_eq!(fetch_inbox(&server, &to).len(), 2);

    // An upload in flight in another process (the put gate held shared) holds up the delete:
    // the collector waits for it, then frees the orphan.
    let late_bytes = b"Subject: mo coi 2\r\n\r\nkhong ai giu\r\n";
    let late = key_of(&prefix, late_bytes);
    bucket.put(&late, late_bytes);
    past_grace_zero();
    let upload = std::fs::File::open(server.data_dir().join("blobs/.put-gate")).unwrap();
    upload.lock_shared().unwrap();
    std::thread::scope(|scope| {
        let collector = scope.spawn(|| gc(&["--grace", "0"]));
        std::thread::sleep(std::time::Duration::from_millis(1500));
        assert!(
            !collector.is_finished(),
            "the collector did not wait for the upload"
        );
        assert!(bucket.get(&late).is_some(), "deleted during an upload");
        drop(upload);
        let out = collector.join().unwrap();
        assert!(out.contains("freed: 1 "), "{out}");
    });
    assert!(bucket.get(&late).is_none());
}

/// `backup create` reads the bodies from the bucket into the backup folder; after the data
/// directory (and on PostgreSQL the database) is lost, `backup restore` into a configuration
/// with a fresh prefix uploads them, and the mailbox comes back byte for byte.
#[test]
fn backup_and_restore_with_bodies_in_s3() {
    if !needs::require(&[needs::S3]) {
        return;
    }
    let (mut server, prefix) = s3_server();
    let from = server.add_account("guibk", "Người Gửi", PW);
    let to = server.add_account("nhanbk", "Người Nhận", PW);
    send(&server, &from, "s3-bk-1", 40, &to);
    send(&server, &from, "s3-bk-2", 1, &to);
    let before = fetch_inbox(&server, &to);
    let folder = server.dir.join("sao-luu");
    let folder_arg = folder.display().to_string();
    let out = server.cli(&["backup", "create", &folder_arg], "");
    assert!(
        out.status.success() && text(&out).contains("2 new"),
        "{}",
        text(&out)
    );
    let on_disk = local_bodies(&folder);
    assert!(
        on_disk.len() >= 2,
        "the backup folder holds the bodies as files: {on_disk:?}"
    );
    let verify = Command::new(env!("CARGO_BIN_EXE_hopthu"))
        .args(["backup", "verify", &folder_arg])
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", text(&verify));

    // Lose the data directory; the restored server keeps its bodies under a new prefix.
    server.kill();
    std::fs::remove_dir_all(server.data_dir()).unwrap();
    if server.store_url.is_some() {
        // On PostgreSQL the database is lost too: restore wants an empty one.
        server.sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public");
    }
    let fresh = unique_s3_prefix();
    let config = std::fs::read_to_string(&server.config).unwrap();
    assert!(config.contains(&format!("/{prefix}\"")));
    std::fs::write(
        &server.config,
        config.replace(&format!("/{prefix}\""), &format!("/{fresh}\"")),
    )
    .unwrap();
    let out = server.cli(&["backup", "restore", &folder_arg], "");
    assert!(out.status.success(), "{}", text(&out));
    let bucket = Bucket::from_env();
    for body in &before {
        assert_eq!(
            bucket.get(&key_of(&fresh, body)).as_deref(),
            Some(&body[..]),
            "restored object"
        );
    }
    server.restart();
    assert!(
        fetch_inbox(&server, &to) == before,
        "the mailbox differs after restore"
    );
}

/// The S3 arm of `BlobStore` itself: content-addressed keys under the prefix, a second `put`
/// of the same body renews its `Last-Modified` (the collector counts age from it), `head` is
/// a prefix, `get_many` keeps the order, a missing body is `NotFound`, and the health probe
/// leaves nothing behind.
#[test]
fn the_blob_store_api_on_s3() {
    if !needs::require(&[needs::S3]) {
        return;
    }
    use hopthu_store::{BlobId, BlobStore, S3Options, StoreError};
    let prefix = unique_s3_prefix();
    let lease = std::env::temp_dir().join(format!("hopthu-s3-lease-{}", rand::random::<u64>()));
    let store = BlobStore::open_s3(
        &S3Options {
            bucket: s3_env("BUCKET"),
            prefix: prefix.clone(),
            endpoint: Some(s3_env("ENDPOINT")),
            region: s3_env("REGION"),
            access_key: s3_env("ACCESS_KEY"),
            secret_key: s3_env("SECRET_KEY"),
        },
        &lease,
    )
    .unwrap();
    let bucket = Bucket::from_env();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let a = std::sync::Arc::new(b"Subject: mot\r\n\r\nthan thu mot\r\n".to_vec());
    let b = std::sync::Arc::new(vec![b'x'; 200_000]);
    runtime.block_on(async {
        let id_a = store.put(a.clone()).await.unwrap();
        let id_b = store.put(b.clone()).await.unwrap();
        assert_eq!(id_a, BlobId::of(&a));
        assert_eq!(bucket.get(&key_of(&prefix, &a)).as_deref(), Some(&a[..]));
        let first = bucket.last_modified(&key_of(&prefix, &a));
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        store.put(a.clone()).await.unwrap();
        let second = bucket.last_modified(&key_of(&prefix, &a));
        assert_ne!(first, second, "a second put must renew Last-Modified");
        assert_eq!(store.head(&id_a, 7).await.unwrap(), b"Subject");
        assert_eq!(store.head(&id_a, 10_000).await.unwrap(), a[..]);
        assert_eq!(store.get(&id_b).await.unwrap(), b[..]);
        let missing = BlobId::of(b"khong co");
        let many = store
            .get_many(vec![id_b.clone(), missing.clone(), id_a.clone()])
            .await
            .unwrap();
        assert_eq!(many[0].as_deref().unwrap(), &b[..]);
        assert!(matches!(many[1], Err(StoreError::NotFound(_))));
        assert_eq!(many[2].as_deref().unwrap(), &a[..]);
        assert!(matches!(
            store.get(&missing).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.head(&missing, 10).await,
            Err(StoreError::NotFound(_))
        ));
        store.probe().await.unwrap();
    });
    let mut keys = bucket.keys(&prefix);
    keys.sort();
    let mut expected = vec![key_of(&prefix, &a), key_of(&prefix, &b)];
    expected.sort();
    assert_eq!(keys, expected, "the probe leaves nothing behind");
    let _ = std::fs::remove_dir_all(&lease);
}

/// A bucket that does not answer (nothing listens on the endpoint) fails `/healthz` and a
/// delivery with a temporary error: the sender is told to retry, nothing is acknowledged.
#[test]
fn an_unreachable_bucket_is_a_temporary_failure() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = TestServer::start_with(&format!(
        "[blobs]\nurl = \"s3://khong-co/p\"\nendpoint = \"http://127.0.0.1:{port}\"\naccess_key = \"a\"\nsecret_key = \"b\"\n"
    ));
    let to = server.add_account("khongluu", "Người Nhận", PW);
    let (head, _) = server.http(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        std::time::Duration::from_secs(60),
    );
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    let out = server.python_output("blob_mail.py", &["append", &to, PW, "INBOX", "khong-luu"]);
    assert!(
        !out.status.success(),
        "an APPEND without its body stored must fail"
    );
}

/// Two nodes on one PostgreSQL database and one bucket (two `Store`s with their own data
/// directories, so their local put gates are separate): node B's collector deletes an old
/// object no row names just after node A wrote the same bytes for a delivery (the body of a
/// message re-sent after its last copy was collected). A's settle after its commit sees the
/// delete B recorded and writes the body again, so the message reads; B's next collection
/// keeps it. The check waits while a collector holds the blob gate, and then sees what it
/// recorded inside it.
#[test]
fn a_collector_on_another_node_cannot_take_a_body_being_delivered() {
    if !needs::require(&[needs::S3, needs::PSQL]) {
        return;
    }
    use hopthu_model::{Flags, MailboxId};
    use hopthu_store::{BlobId, BlobStore, Delivery, GcOptions, NewAccount, S3Options, Store};
    use std::sync::Arc;
    use std::time::Duration;

    let url = super::backend::new_database();
    let prefix = unique_s3_prefix();
    let root = std::env::temp_dir().join(format!("hopthu-s3-nodes-{}", rand::random::<u64>()));
    let options = S3Options {
        bucket: s3_env("BUCKET"),
        prefix: prefix.clone(),
        endpoint: Some(s3_env("ENDPOINT")),
        region: s3_env("REGION"),
        access_key: s3_env("ACCESS_KEY"),
        secret_key: s3_env("SECRET_KEY"),
    };
    let node = |name: &str| {
        let dir = root.join(name);
        let blobs = BlobStore::open_s3(&options, &dir.join("blobs")).unwrap();
        let (dir, url) = (dir.clone(), url.clone());
        async move { Store::open(&dir, Some(&url), Some(blobs)).await.unwrap() }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let body = Arc::new(
        format!(
            "Subject: gui lai\r\n\r\nnoi dung {}\r\n",
            rand::random::<u64>()
        )
        .into_bytes(),
    );
    let bucket = Bucket::from_env();
    runtime.block_on(async {
        let a = node("a").await;
        let b = node("b").await;
        let account = a
            .create_account(
                &NewAccount {
                    address: "nhan@s3nodes.vn".into(),
                    display_name: "Nhận".into(),
                    password_hash: "h".into(),
                    must_change_password: false,
                    created_at: 0,
                },
                &[("INBOX", None)],
            )
            .await
            .unwrap();
        let inbox: MailboxId = a
            .mailbox_by_name(account, "INBOX")
            .await
            .unwrap()
            .unwrap()
            .id;

        // A writes the body; B's collector (grace 0, and the object already a few seconds
        // old: the interleaving of a look just before the upload and a delete just after)
        // deletes it before A commits.
        let put = a.put_body(body.clone()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let now = GcOptions {
            grace: Duration::ZERO,
            dry_run: false,
        };
        let report = b.collect_blobs(&now).await.unwrap();
        assert_eq!(report.freed, 1, "{report:?}");
        assert!(bucket.get(&key_of(&prefix, &body)).is_none());

        a.deliver_indexed(
            &Delivery {
                received: true,
                blob: &put.id,
                size: body.len() as u32,
                internal_date: 1,
                targets: &hopthu_store::same_flags(&[inbox], &Flags::new()),
                queue: &[],
            },
            None,
        )
        .await
        .unwrap();
        a.settle_body(&put, body.clone()).await.unwrap();
        assert_eq!(a.blobs().get(&put.id).await.unwrap(), body[..]);
        assert_eq!(
            bucket.get(&key_of(&prefix, &body)).as_deref(),
            Some(&body[..])
        );
        tokio::time::sleep(Duration::from_millis(2100)).await;
        let report = b.collect_blobs(&now).await.unwrap();
        assert_eq!(report.freed, 0, "a referenced body stays: {report:?}");
        assert_eq!(b.blobs().get(&put.id).await.unwrap(), body[..]);

        // The check waits for a collector holding the gate, then sees its record.
        let other = BlobId::of(b"another body");
        let gate = b.blob_gate().await.unwrap();
        let asked = {
            let (a, other) = (Arc::new(a), other.clone());
            let since = chrono_now_ms() - 1000;
            tokio::spawn(async move { a.blobs_deleted_since(&[other], since).await })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(!asked.is_finished(), "the check waits for the gate");
        b.record_blob_deletions(std::slice::from_ref(&other), chrono_now_ms())
            .await
            .unwrap();
        drop(gate);
        let seen = asked.await.unwrap().unwrap();
        assert_eq!(
            seen.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>(),
            vec![other]
        );
    });
    drop(runtime);
    super::backend::drop_database(&url);
    let _ = std::fs::remove_dir_all(&root);
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

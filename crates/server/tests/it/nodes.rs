//! Two `hopthu serve` nodes sharing one PostgreSQL database and one S3 bucket, each with its
//! own data directory and listeners: mail delivered through one wakes an IDLE session on the
//! other and is served there byte for byte, concurrent APPENDs through both get unique,
//! increasing UIDs, and a source locked out by failed sign-ins on one is locked out on the
//! other. (A node killed with a full queue: `mta::two_nodes_*`.)

use super::backend;
use super::harness::{TestServer, s3_blobs_table, unique_s3_prefix};
use super::needs;

/// A database and a blob prefix shared by the nodes of one test; the database is dropped at
/// the end.
pub struct Shared {
    pub url: String,
    pub prefix: String,
}

impl Shared {
    /// `None` (the test skips, when allowed) unless psql and the run's S3 server are there.
    pub fn new() -> Option<Shared> {
        if !needs::require(&[needs::PSQL, needs::S3]) {
            return None;
        }
        Some(Shared {
            url: backend::new_database(),
            prefix: unique_s3_prefix(),
        })
    }

    /// The configuration tables a node of this installation adds to `extra`.
    pub fn node_config(&self, extra: &str) -> String {
        format!(
            "{extra}\n[store]\nurl = \"{}\"\n{}",
            self.url,
            s3_blobs_table(&self.prefix)
        )
    }

    pub fn start_node(&self, extra: &str) -> TestServer {
        TestServer::start_with(&self.node_config(extra))
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        backend::drop_database(&self.url);
    }
}

#[test]
fn mail_through_one_node_wakes_idle_on_the_other() {
    let Some(shared) = Shared::new() else { return };
    let a = shared.start_node("");
    let b = shared.start_node("");
    let user = a.add_account("hainode", "Hai Node", "mat-khau-hai-node");
    let a_smtp = a.addrs["smtp"].port().to_string();
    let on_b = b.python("nodes.py", &["idle", &user, "mat-khau-hai-node", &a_smtp]);
    let on_a = a.python("nodes.py", &["digest", &user, "mat-khau-hai-node"]);
    assert_eq!(on_a.trim().len(), 64, "{on_a}");
    assert_eq!(on_a.trim(), on_b.trim(), "the nodes serve different bytes");
}

#[test]
fn concurrent_appends_through_two_nodes_get_unique_increasing_uids() {
    let Some(shared) = Shared::new() else { return };
    let a = shared.start_node("");
    let b = shared.start_node("");
    let user = a.add_account("ghidong", "Ghi Dong", "mat-khau-ghi-dong");
    let a_imaps = a.addrs["imaps"].port().to_string();
    let a_cert = a.data_dir().join("tls/cert.pem");
    let out = b.python(
        "nodes.py",
        &[
            "append",
            &user,
            "mat-khau-ghi-dong",
            &a_imaps,
            a_cert.to_str().unwrap(),
            "8",
            "5",
        ],
    );
    assert_eq!(out.trim(), "OK 80", "{out}");
}

/// Failed sign-ins count on every node (contract §14): after `auth_failures_per_ip` wrong
/// passwords through node A, node B refuses even the right one from that source.
#[test]
fn a_source_locked_out_on_one_node_is_locked_out_on_the_other() {
    let Some(shared) = Shared::new() else { return };
    let limits = "[limits]\nauth_failures_per_ip = 3\nauth_failures_per_account = 10\n";
    let a = shared.start_node(limits);
    let b = shared.start_node(limits);
    let user = a.add_account("khoanode", "Khoa Node", "mat-khau-khoa-node");
    let a_imaps = a.addrs["imaps"].port().to_string();
    let a_cert = a.data_dir().join("tls/cert.pem");
    let out = b.python(
        "nodes.py",
        &[
            "lockout",
            &user,
            "mat-khau-khoa-node",
            &a_imaps,
            a_cert.to_str().unwrap(),
            "3",
        ],
    );
    assert_eq!(out.trim(), "LOCKED", "{out}");
}

//! The integration tests: one binary (linking is slow on 2 cores), one module per area. Each
//! test starts the real `hopthu` binary on free loopback ports with its own data directory and
//! drives it with real clients (Python's smtplib/imaplib, raw sockets).

mod accounts;
mod admin;
mod autoconfig;
mod backend;
mod blobs;
mod contacts;
mod directory;
mod dispatch;
mod dns;
mod documents;
mod export;
mod fake_dns;
mod groups;
mod harness;
mod imap;
mod inspection;
mod lifecycle;
mod managesieve;
mod mta;
mod needs;
mod nodes;
mod pop3;
mod reorganise;
mod report;
mod s3;
mod server;
mod sieve;
mod smtp;
mod spam;
mod store_copy;
mod submit;
mod tidy;
mod unit_mailbox;
mod verify;
mod web;
mod web_limits;

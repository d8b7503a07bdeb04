//! IMAP tests (owned by the IMAP work).

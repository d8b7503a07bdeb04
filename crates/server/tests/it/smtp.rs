//! SMTP tests (owned by the SMTP work).

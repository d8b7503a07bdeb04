//! Server-level tests: configuration, CLI, demo, shutdown.

//! Private files: mail, password hashes, keys, backups and credentials sheets are readable by
//! the service account only. The process umask is `0o077` from the start of every command
//! (so SQLite's database, WAL and SHM, blobs, keys, backups and uploads are created `0600` /
//! `0700`), and an existing data directory is tightened when a command opens it: the
//! directory itself `0700` and each of its top-level items `0700` (folders) or `0600`
//! (files), which closes everything below them to other users.

use std::fs::Permissions;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Sets the process umask so that every file and folder is created private.
pub fn restrict_umask() {
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Makes `dir` `0700` and its top-level items `0700`/`0600` (symbolic links are left alone).
pub fn tighten(dir: &Path) -> std::io::Result<()> {
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let mode = if kind.is_dir() {
            0o700
        } else if kind.is_file() {
            0o600
        } else {
            continue;
        };
        let path = entry.path();
        let current = std::fs::symlink_metadata(&path)?.permissions().mode() & 0o777;
        if current != mode {
            std::fs::set_permissions(&path, Permissions::from_mode(mode))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a file readable by the owner only (`0600`, also when it existed).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.set_permissions(Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

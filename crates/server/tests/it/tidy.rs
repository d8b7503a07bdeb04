//! Keeps the crate graph honest: dependencies point one way
//! (`model ← config ← store ← core ← {smtp, imap, web} ← server`), and no crate but `store`
//! names the database driver.

use std::path::Path;

fn dependencies(krate: &str) -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && let Some((name, _)) = line.split_once(['=', '.']) {
            deps.push(name.trim().to_string());
        }
    }
    deps
}

#[test]
fn crate_edges_point_one_way() {
    let allowed: &[(&str, &[&str])] = &[
        ("model", &[]),
        ("config", &["hopthu-model"]),
        ("store", &["hopthu-model"]),
        ("core", &["hopthu-model", "hopthu-config", "hopthu-store"]),
        ("smtp", &["hopthu-model", "hopthu-core"]),
        ("imap", &["hopthu-model", "hopthu-core"]),
        ("web", &["hopthu-model", "hopthu-core"]),
        ("pop3", &["hopthu-model", "hopthu-core"]),
        ("mta", &["hopthu-model", "hopthu-core"]),
    ];
    for (krate, internal) in allowed {
        for dep in dependencies(krate) {
            if dep.starts_with("hopthu") {
                assert!(
                    internal.contains(&dep.as_str()),
                    "crates/{krate} must not depend on {dep}"
                );
            }
            if *krate != "store" {
                assert!(dep != "sqlx", "crates/{krate}: SQL belongs to the store");
            }
        }
    }
}

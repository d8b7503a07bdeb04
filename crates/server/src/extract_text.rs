//! `hopthu extract-text pdf|docx`: the child process in which the server reads the text of an
//! attachment (`hopthu_core::doc_text`). It limits itself before it reads a byte: 1 GiB of
//! address space and 10 seconds of CPU (the kernel ends it past either), no core file. The
//! parent also kills it after a wall-clock timeout. A hostile document can cost this process,
//! never the server.

use std::io::{Read, Write};

use anyhow::{Context, bail};
use hopthu_core::doc_text::{self, Kind};
use rustix::process::{Resource, Rlimit, setrlimit};

const MEMORY: u64 = 1 << 30;
const CPU_SECONDS: u64 = 10;

pub fn run(kind: &str) -> anyhow::Result<()> {
    let Some(kind) = Kind::parse(kind) else {
        bail!("extract-text: unknown kind {kind:?} (pdf or docx)");
    };
    for (resource, limit) in [
        (Resource::As, MEMORY),
        (Resource::Cpu, CPU_SECONDS),
        (Resource::Core, 0),
    ] {
        setrlimit(
            resource,
            Rlimit {
                current: Some(limit),
                maximum: Some(limit),
            },
        )
        .with_context(|| format!("extract-text: limit {resource:?}"))?;
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(doc_text::MAX_DOCUMENT as u64 + 1)
        .read_to_end(&mut bytes)
        .context("extract-text: read the document")?;
    let text = doc_text::extract(kind, &bytes);
    std::io::stdout()
        .write_all(text.as_bytes())
        .context("extract-text: write the text")?;
    Ok(())
}

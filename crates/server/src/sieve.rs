//! `hopthu sieve …`: an account's Sieve scripts from the console, acting as the account
//! through the same core API as ManageSieve and the webmail's rules pages.
//!
//! ```text
//! hopthu sieve put ADDRESS NAME FILE [--activate]
//! hopthu sieve list ADDRESS
//! hopthu sieve show ADDRESS NAME
//! hopthu sieve activate ADDRESS NAME|--none
//! hopthu sieve delete ADDRESS NAME
//! ```

use std::path::PathBuf;

use clap::Subcommand;

#[derive(Subcommand)]
pub enum SieveCommand {
    /// Lưu bộ lọc / store (create or replace) the script NAME of ADDRESS from FILE; a script
    /// that does not compile is refused with the compiler's message.
    Put {
        address: String,
        name: String,
        file: PathBuf,
        /// Make it the active script.
        #[arg(long)]
        activate: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Danh sách bộ lọc / the scripts of ADDRESS (the active one marked).
    List {
        address: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Xem bộ lọc / print the script NAME of ADDRESS.
    Show {
        address: String,
        name: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Dùng bộ lọc / make NAME the active script of ADDRESS (`--none`: no script runs).
    Activate {
        address: String,
        #[arg(required_unless_present = "none")]
        name: Option<String>,
        #[arg(long, conflicts_with = "name")]
        none: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Xoá bộ lọc / delete the script NAME of ADDRESS (not the active one).
    Delete {
        address: String,
        name: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub async fn run(command: SieveCommand) -> anyhow::Result<()> {
    let config = match &command {
        SieveCommand::Put { config, .. }
        | SieveCommand::List { config, .. }
        | SieveCommand::Show { config, .. }
        | SieveCommand::Activate { config, .. }
        | SieveCommand::Delete { config, .. } => config.clone(),
    };
    let core = crate::lifecycle::open(config.as_deref()).await?;
    let result = act(&core, command).await;
    core.close().await;
    result
}

async fn act(core: &hopthu_core::Core, command: SieveCommand) -> anyhow::Result<()> {
    match command {
        SieveCommand::Put {
            address,
            name,
            file,
            activate,
            ..
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
            let who = core.sieve_owner(&address).await?;
            core.sieve_put(&who, &name, &text).await?;
            if activate {
                core.sieve_activate(&who, Some(&name)).await?;
            }
            println!(
                "Đã lưu bộ lọc / stored: {name}{}",
                if activate { " (active)" } else { "" }
            );
        }
        SieveCommand::List { address, .. } => {
            let who = core.sieve_owner(&address).await?;
            for s in core.sieve_scripts(&who).await? {
                println!(
                    "{}\t{}\t{}",
                    s.name,
                    s.size,
                    if s.active { "active" } else { "" }
                );
            }
        }
        SieveCommand::Show { address, name, .. } => {
            let who = core.sieve_owner(&address).await?;
            print!("{}", core.sieve_script(&who, &name).await?);
        }
        SieveCommand::Activate { address, name, .. } => {
            let who = core.sieve_owner(&address).await?;
            core.sieve_activate(&who, name.as_deref()).await?;
            match name {
                Some(name) => println!("Đang dùng / active: {name}"),
                None => println!("Không dùng bộ lọc nào / no active script"),
            }
        }
        SieveCommand::Delete { address, name, .. } => {
            let who = core.sieve_owner(&address).await?;
            core.sieve_delete(&who, &name).await?;
            println!("Đã xoá / deleted: {name}");
        }
    }
    Ok(())
}

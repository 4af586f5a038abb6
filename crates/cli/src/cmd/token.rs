//! `rampart token`: create, list and revoke the API tokens of `rampart serve`.
//!
//! `create` prints the secret alone on stdout (so `TOKEN=$(rampart token create …)`
//! works) and everything else on stderr; the store keeps only its digest, so it is
//! shown this once. `list` never shows secrets.

use crate::cmd::alerts::StoreArg;
use crate::global::GlobalOpts;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Subcommand};
use rampart_event::terminal::Escaped;
use rampart_store::{Role, TokenId};
use std::io::Write;
use std::process::ExitCode;

/// Arguments of `rampart token`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    command: TokenCommand,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; prints only the secret on stdout (it is not stored).
    Create(CreateArgs),
    /// List tokens (never their secrets), oldest first.
    List(ListArgs),
    /// Revoke a token by id: requests bearing it are refused from now on.
    Revoke(RevokeArgs),
}

#[derive(Debug, Args)]
struct CreateArgs {
    /// What the token may do.
    #[arg(long, value_name = "ROLE", value_parser = role_parser())]
    role: Role,
    /// A name for people (`shipper-dc1`); default: the role.
    #[arg(long, value_name = "N")]
    name: Option<String>,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// One JSON object per token per line.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

#[derive(Debug, Args)]
struct RevokeArgs {
    /// The token id (`token list` shows it).
    #[arg(value_name = "ID")]
    id: TokenId,
    #[command(flatten)]
    store: StoreArg,
}

/// Role names in their kebab-case spelling, checked by clap (listed in `--help`).
fn role_parser() -> impl TypedValueParser<Value = Role> {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str)).try_map(|name| name.parse::<Role>())
}

/// Runs `rampart token`.
pub fn run(args: TokenArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        TokenCommand::Create(args) => {
            let path = args.store.path(global);
            let mut store = rampart_store::open(&path)?;
            let name = args.name.unwrap_or_else(|| args.role.as_str().to_string());
            let (info, secret) = store.create_token(args.role, &name)?;
            println!("{secret}");
            eprintln!(
                "created token {} ({}, role {}) in {}; it is shown only this once",
                info.id,
                Escaped(&info.name),
                info.role,
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::List(args) => {
            let store = args.store.open_read(global)?;
            let tokens = store.tokens()?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
                t.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_else(|| "-".into())
            };
            for token in &tokens {
                if args.json {
                    serde_json::to_writer(&mut out, token)?;
                    writeln!(out)?;
                } else {
                    writeln!(
                        out,
                        "{:>4}  {:<11}  {}  last used {:<19}  {:<7}  {}",
                        token.id,
                        token.role.as_str(),
                        time(Some(token.created_at)),
                        time(token.last_used),
                        if token.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        },
                        Escaped(&token.name)
                    )?;
                }
            }
            out.flush()?;
            if !args.json {
                eprintln!("{} token(s)", tokens.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCommand::Revoke(args) => {
            let mut store = rampart_store::open(&args.store.path(global))?;
            if store.revoke_token(args.id)? {
                eprintln!("token {} revoked", args.id);
                Ok(ExitCode::SUCCESS)
            } else {
                anyhow::bail!("no active token {} (see `rampart token list`)", args.id)
            }
        }
    }
}

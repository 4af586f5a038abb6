//! `rampart intel taxii`: a TAXII 2.1 server's collections, and polling one into the
//! store.
//!
//! A poll starts from the source's stored cursor (the last `X-TAXII-Date-Added-Last`)
//! and is imported as one merge, its new cursor committed in the same transaction:
//! what a poll brought is stored whole with the point to resume from, or not at all.
//! Credentials never come from the command line's arguments (shell history, process
//! lists): the password of `--user` from `RAMPART_TAXII_PASSWORD` or `--password-file`,
//! a bearer token from `RAMPART_TAXII_TOKEN` or `--token-file`.

use crate::cmd::alerts::StoreArg;
use crate::cmd::hunt::EXIT_SKIPPED_INPUT;
use crate::global::GlobalOpts;
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use rampart_event::terminal::Escaped;
use rampart_intel::taxii::{self, Auth, Client, ClientConfig};
use rampart_intel::Diagnostic;
use rampart_store::{ImportMode, ImportOptions, ImportOutcome, SqliteStore};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// The environment variable holding the password of `--user`.
const PASSWORD_VAR: &str = "RAMPART_TAXII_PASSWORD";
/// The environment variable holding a bearer token.
const TOKEN_VAR: &str = "RAMPART_TAXII_TOKEN";

/// Arguments of `rampart intel taxii`.
#[derive(Debug, Args)]
pub struct TaxiiArgs {
    #[command(subcommand)]
    command: TaxiiCommand,
}

#[derive(Debug, Subcommand)]
enum TaxiiCommand {
    /// List the collections of a TAXII 2.1 server.
    Collections(CollectionsArgs),
    /// Poll a collection's objects added since the last poll into the store.
    Poll(PollArgs),
}

/// Where the server is and how to log in.
#[derive(Debug, Args)]
struct Connection {
    /// The server's discovery URL (`https://host/taxii2/`: its default API root is
    /// used) or an API root URL.
    #[arg(value_name = "URL")]
    url: String,
    /// User for HTTP basic authentication; the password is read from
    /// RAMPART_TAXII_PASSWORD or --password-file, never from the command line.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// A file whose first line is the password of --user.
    #[arg(long, value_name = "FILE", requires = "user")]
    password_file: Option<PathBuf>,
    /// A file whose first line is a bearer token (default: RAMPART_TAXII_TOKEN, when
    /// set).
    #[arg(long, value_name = "FILE", conflicts_with = "user")]
    token_file: Option<PathBuf>,
    /// Seconds allowed to connect and for each read; a whole request gets five times
    /// as long.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
}

#[derive(Debug, Args)]
struct CollectionsArgs {
    #[command(flatten)]
    connection: Connection,
    /// One JSON object per collection per line.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct PollArgs {
    #[command(flatten)]
    connection: Connection,
    /// The collection's id (`intel taxii collections` lists them).
    #[arg(long, value_name = "ID")]
    collection: String,
    /// Poll the objects added after this time (TAXII timestamp) instead of from the
    /// stored cursor.
    #[arg(long, value_name = "TIME", conflicts_with = "from_start")]
    added_after: Option<String>,
    /// Poll every object, ignoring the stored cursor.
    #[arg(long)]
    from_start: bool,
    /// Objects asked for per page (the server may send fewer).
    #[arg(long, value_name = "N")]
    limit: Option<u32>,
    /// The most pages one poll fetches; the rest waits for the next poll.
    #[arg(long, value_name = "N", default_value_t = 1_000)]
    max_pages: usize,
    /// The largest page read, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_page_mib: u64,
    /// The poll's report as one JSON object.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    store: StoreArg,
}

/// Runs `rampart intel taxii`.
pub fn run(args: TaxiiArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    match args.command {
        TaxiiCommand::Collections(args) => collections(args),
        TaxiiCommand::Poll(args) => poll(args, global),
    }
}

fn collections(args: CollectionsArgs) -> anyhow::Result<ExitCode> {
    let client = Client::new(auth(&args.connection)?, config(&args.connection));
    let root = client.resolve_api_root(&args.connection.url)?;
    let collections = client.collections(&root)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for collection in &collections {
        if args.json {
            serde_json::to_writer(&mut out, collection)?;
            writeln!(out)?;
        } else {
            let access = match (collection.can_read, collection.can_write) {
                (true, true) => "read-write",
                (true, false) => "read",
                (false, true) => "write",
                (false, false) => "none",
            };
            writeln!(
                out,
                "{}  {:<10}  {}",
                Escaped(&collection.id),
                access,
                Escaped(&collection.title)
            )?;
        }
    }
    out.flush()?;
    eprintln!(
        "{} collection(s) in API root {}",
        collections.len(),
        Escaped(&root)
    );
    Ok(ExitCode::SUCCESS)
}

/// The poll's report, as `--json` prints it.
#[derive(Serialize)]
struct PollReport<'a> {
    source: &'a str,
    collection: &'a str,
    polled_from: Option<&'a str>,
    cursor: Option<&'a str>,
    pages: usize,
    objects: usize,
    bytes: u64,
    complete: bool,
    indicators: usize,
    outcome: ImportOutcome,
    diagnostics: &'a [Diagnostic],
}

fn poll(args: PollArgs, global: &GlobalOpts) -> anyhow::Result<ExitCode> {
    let mut config = config(&args.connection);
    config.page_limit = args.limit;
    config.max_pages = args.max_pages.max(1);
    config.max_page_bytes = args.max_page_mib.max(1) << 20;
    let client = Client::new(auth(&args.connection)?, config);
    let root = client.resolve_api_root(&args.connection.url)?;
    let collection = taxii::collection_url(&root, &args.collection)?;
    let source = taxii::source_name(&collection);

    let path = args.store.path(global);
    let mut store = SqliteStore::open(&path)?;
    let from = if args.from_start {
        None
    } else if let Some(after) = args.added_after.clone() {
        Some(after)
    } else {
        store.source_cursor(&source)?
    };
    let poll = client.poll(&root, &args.collection, from.as_deref())?;
    let (pages, objects, bytes, complete) =
        (poll.pages, poll.objects.len(), poll.bytes, poll.complete);
    let cursor = poll.cursor.clone();
    let feed = poll.into_feed();
    let options = ImportOptions {
        location: Some(collection.clone()),
        cursor: cursor.clone(),
        kind: Some("taxii".into()),
    };
    let outcome = store
        .import_feed_with(&feed, ImportMode::Merge, &options)
        .with_context(|| format!("storing the poll of {collection} in {}", path.display()))?;

    for diagnostic in &feed.diagnostics {
        eprintln!(
            "warning: {}: {}",
            Escaped(&diagnostic.location),
            Escaped(&diagnostic.message)
        );
    }
    if args.json {
        let report = PollReport {
            source: &source,
            collection: &collection,
            polled_from: from.as_deref(),
            cursor: cursor.as_deref(),
            pages,
            objects,
            bytes,
            complete,
            indicators: feed.indicators.len(),
            outcome,
            diagnostics: &feed.diagnostics,
        };
        let mut out = std::io::stdout().lock();
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        println!(
            "{}: {objects} object(s) in {pages} page(s), {} indicator(s): {} added, {} \
             updated, {} unchanged; cursor {}",
            Escaped(&source),
            feed.indicators.len(),
            outcome.added,
            outcome.updated,
            outcome.unchanged,
            Escaped(cursor.as_deref().unwrap_or("none"))
        );
    }
    eprintln!(
        "polled {} into {}{}; {} diagnostic(s)",
        Escaped(&collection),
        path.display(),
        if complete {
            ""
        } else {
            " (stopped early: the next poll goes on from the cursor)"
        },
        feed.diagnostics.len()
    );
    Ok(if feed.diagnostics.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_SKIPPED_INPUT)
    })
}

fn config(connection: &Connection) -> ClientConfig {
    let timeout = Duration::from_secs(connection.timeout.max(1));
    ClientConfig {
        connect_timeout: timeout,
        read_timeout: timeout,
        request_timeout: timeout * 5,
        ..ClientConfig::default()
    }
}

/// The credentials: `--user` with its password from the environment or a file, a
/// bearer token from a file or the environment, or none.
fn auth(connection: &Connection) -> anyhow::Result<Auth> {
    if let Some(user) = &connection.user {
        let password = match &connection.password_file {
            Some(file) => first_line(file)?,
            None => match std::env::var(PASSWORD_VAR) {
                Ok(password) => password,
                Err(_) => bail!(
                    "--user {} needs a password: set {PASSWORD_VAR} or give --password-file",
                    Escaped(user)
                ),
            },
        };
        return Ok(Auth::Basic {
            user: user.clone(),
            password,
        });
    }
    if let Some(file) = &connection.token_file {
        return Ok(Auth::Bearer(first_line(file)?));
    }
    match std::env::var(TOKEN_VAR) {
        Ok(token) if !token.trim().is_empty() => Ok(Auth::Bearer(token.trim().to_owned())),
        _ => Ok(Auth::None),
    }
}

/// The first line of a secrets file, without its line end.
fn first_line(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the secret in {}", path.display()))?;
    let line = text.lines().next().unwrap_or("").trim_end_matches('\r');
    if line.is_empty() {
        bail!("{} holds no secret on its first line", path.display());
    }
    Ok(line.to_owned())
}

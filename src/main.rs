//! The `streamdom` binary: `streamdom serve` runs the hub, `streamdom user …` manages who may
//! sign in, `streamdom project …` which sites may record. (The load tool is its own binary, `streamdom-bench`, in bench/load.)

use std::io::{BufRead, IsTerminal};

use std::io::Write;

use clap::{Parser, Subcommand};
use streamdom::{
    auth::{self, projects as project_access, Role},
    config::{parse_key, Config, LogFormat},
    db::{self, projects::Removed},
    error::{Error, Result},
};

/// glibc's malloc and free were 17 % of the hub's CPU under ingest (many threads handing small
/// buffers to each other); see docs/PERFORMANCE.md, "On a quiet machine".
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "StreamDOM: watch web sessions live, rewind and replay them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the hub: recorder and viewer sockets, the API and the dashboard.
    Serve(Config),
    /// Manage dashboard users (in the database the hub with the same settings uses).
    User {
        #[command(subcommand)]
        action: UserAction,
        #[command(flatten)]
        cfg: Config,
    },
    /// Manage projects: their ingest keys, allowed origins and retention.
    Project {
        #[command(subcommand)]
        action: ProjectAction,
        #[command(flatten)]
        cfg: Config,
    },
}

#[derive(Subcommand)]
enum ProjectAction {
    /// Add a project and print its key and the snippet to paste.
    Add {
        name: String,
        /// An origin its pages may record from (repeat it; none allows any origin).
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Days its sessions are kept.
        #[arg(long, default_value_t = project_access::DEFAULT_RETENTION_DAYS)]
        retention_days: i32,
        /// Its ingest key (default: a random one).
        #[arg(long, value_parser = parse_key)]
        key: Option<String>,
    },
    /// List projects with their keys, origins and retention.
    List,
    /// Keep the project's sessions DAYS days after their last event (older ones are deleted by
    /// the hub's next retention pass).
    Retention { name: String, days: i32 },
    /// Remove a project with all its sessions (refused while one of them is recording).
    Remove { name: String },
    /// Let pages of ORIGIN (`https://shop.example`) record for the project.
    AllowOrigin {
        name: String,
        origin: String,
        /// Take the origin off the list instead (an empty list allows any origin).
        #[arg(long)]
        remove: bool,
    },
}

#[derive(Subcommand)]
enum UserAction {
    /// Add a user; the password is read from the first line of stdin.
    Add {
        username: String,
        /// `admin` (manages users and projects) or `member`.
        #[arg(long, default_value = "member")]
        role: String,
    },
    /// Set a user's password (read from stdin) and end their sign-ins.
    Passwd { username: String },
    /// Remove a user, their sign-ins and their API tokens.
    Remove { username: String },
}

/// mimalloc's `mi_option_purge_delay`: its index in `mi_option_e` of the mimalloc (v3) that
/// libmimalloc-sys 0.1.49 vendors (the crate names options up to 14 and from 16; check this when
/// updating it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long mimalloc keeps freed memory before giving it back to the OS. At its default (10 ms)
/// the hub handed pages back and faulted them in again all the time under ingest: the kernel
/// zeroing fresh pages was 5 % of its CPU, and at 100,000 events/s the backlog behind the hub
/// was p50 0.12–0.39 s; with 1 s it was 14–342 ms (docs/PERFORMANCE.md, "On a quiet machine").
/// An operator's `MIMALLOC_PURGE_DELAY` still decides.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

#[allow(unsafe_code)]
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: mi_option_set only stores an integer in mimalloc's option table (atomically);
        // it takes no pointer and any value is valid for this option.
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    // `.env` in the working directory, before the command line is parsed so that every flag's
    // environment fallback sees it; variables already set in the environment win.
    let dotenv = dotenvy::dotenv();
    let cli = Cli::parse();
    let log_format = match &cli.command {
        Command::Serve(cfg) | Command::User { cfg, .. } | Command::Project { cfg, .. } => {
            cfg.log_format
        }
    };
    init_logging(log_format);
    match dotenv {
        Ok(path) => log::info!("read settings from {}", path.display()),
        Err(e) if e.not_found() => {}
        Err(e) => {
            log::error!("cannot read .env: {}", dotenv_error(&e));
            return std::process::ExitCode::FAILURE;
        }
    }
    let result = match cli.command {
        Command::Serve(cfg) => actix_web::rt::System::new().block_on(serve(cfg)),
        Command::User { action, cfg } => user(action, &cfg),
        Command::Project { action, cfg } => project(action, &cfg),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// What is wrong with `.env`, on one line and without the value, which may be a secret.
fn dotenv_error(e: &dotenvy::Error) -> String {
    match e {
        dotenvy::Error::LineParse(line, at) => {
            let name = line.split('=').next().unwrap_or_default().trim();
            format!("the line of {name:?} is malformed at character {at}")
        }
        other => other.to_string().replace('\n', " "),
    }
}

/// Logs go to stderr, as text or JSON lines; `RUST_LOG` overrides the default filter. They
/// carry session ids, counts and causes, never event contents or credentials.
fn init_logging(format: LogFormat) {
    let mut builder = env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,actix_server=warn"),
    );
    if format == LogFormat::Json {
        builder.format(|buf, record| {
            // Written field by field to keep this order, each value escaped by serde_json.
            let json = |s: &str| serde_json::Value::from(s).to_string();
            let ts = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            writeln!(
                buf,
                r#"{{"ts":{},"level":{},"target":{},"message":{}}}"#,
                json(&ts),
                json(record.level().as_str()),
                json(record.target()),
                json(&record.args().to_string())
            )
        });
    }
    builder.init();
}

async fn serve(cfg: Config) -> streamdom::error::Result<()> {
    let server = streamdom::server::run(cfg).await?;
    // Ctrl-C or SIGTERM: stop taking connections, then flush every accepted event.
    wait_for_signal().await;
    log::info!("shutting down");
    server.stop().await
}

/// Runs a `user` command straight on the database, through the hub's own queries.
fn user(action: UserAction, cfg: &Config) -> Result<()> {
    let pool = db::connect(&cfg.resolved_database_url(), 2)?;
    let mut conn = pool.get()?;
    match action {
        UserAction::Add { username, role } => {
            let role = Role::parse(&role)?;
            let password = read_password()?;
            if !auth::add_user(&mut conn, &username, &password, role)? {
                return Err(Error::InvalidQuery(format!(
                    "user {username} already exists"
                )));
            }
            eprintln!("added {} {username}", role.as_str());
        }
        UserAction::Passwd { username } => {
            let password = read_password()?;
            if !auth::set_password(&mut conn, &username, &password)? {
                return Err(Error::NotFound);
            }
            eprintln!("changed the password of {username}; their sign-ins are ended");
        }
        UserAction::Remove { username } => {
            if !db::users::remove(&mut conn, &username)? {
                return Err(Error::NotFound);
            }
            eprintln!("removed {username}");
        }
    }
    Ok(())
}

/// Runs a `project` command straight on the database, through the hub's own queries. A hub
/// already running sees the change at once (keys and origins are read per connection).
fn project(action: ProjectAction, cfg: &Config) -> Result<()> {
    let pool = db::connect(&cfg.resolved_database_url(), 2)?;
    let mut conn = pool.get()?;
    let show = |p: &db::projects::ProjectRow| {
        let origins = match p.allowed_origins.trim() {
            "" => "any origin",
            list => list,
        };
        println!(
            "{}\t{}\t{}\t{} days",
            p.id,
            p.public_key.as_deref().unwrap_or("(set at the next start)"),
            origins,
            p.retention_days
        );
    };
    match action {
        ProjectAction::Add {
            name,
            origins,
            retention_days,
            key,
        } => {
            let row =
                project_access::add_project(&mut conn, &name, key, &origins, Some(retention_days))?
                    .ok_or_else(|| {
                        Error::InvalidQuery(format!("project {name} (or its key) already exists"))
                    })?;
            let key = row.public_key.as_deref().unwrap_or_default();
            let hub = cfg.public_url.as_deref().unwrap_or("https://HUB");
            eprintln!("added project {name}; record its pages with:\n");
            println!("{}", streamdom::assets::snippet(hub, key));
        }
        ProjectAction::List => {
            for p in db::projects::list(&mut conn)? {
                show(&p);
            }
        }
        ProjectAction::Retention { name, days } => {
            let row = project_access::set_retention(&mut conn, &name, days)?;
            show(&row.ok_or(Error::NotFound)?);
        }
        ProjectAction::Remove { name } => match db::projects::remove(&mut conn, &name)? {
            Removed::Removed => eprintln!("removed project {name} and its sessions"),
            Removed::NotFound => return Err(Error::NotFound),
            Removed::HasActiveSessions => {
                return Err(Error::InvalidQuery(format!(
                    "project {name} has sessions recording now; retry once they end"
                )))
            }
        },
        ProjectAction::AllowOrigin {
            name,
            origin,
            remove,
        } => {
            let row = match remove {
                false => project_access::allow_origin(&mut conn, &name, &origin)?,
                true => project_access::disallow_origin(&mut conn, &name, &origin)?,
            };
            show(&row.ok_or(Error::NotFound)?);
        }
    }
    Ok(())
}

/// The first line of stdin (the terminal echoes it: pipe it in from a secret store instead).
fn read_password() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("password: ");
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Error::internal(format!("reading the password: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

//! The `streamdom` binary: `streamdom serve` runs the hub. (The load tool is its own binary,
//! `streamdom-bench`, in bench/load.)

use std::io::Write;

use clap::{Parser, Subcommand};
use streamdom::config::{Config, LogFormat};

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
}

fn main() -> std::process::ExitCode {
    // `.env` in the working directory, before the command line is parsed so that every flag's
    // environment fallback sees it; variables already set in the environment win.
    let dotenv = dotenvy::dotenv();
    let cli = Cli::parse();
    let Command::Serve(cfg) = cli.command;
    init_logging(cfg.log_format);
    match dotenv {
        Ok(path) => log::info!("read settings from {}", path.display()),
        Err(e) if e.not_found() => {}
        Err(e) => {
            log::error!("cannot read .env: {}", dotenv_error(&e));
            return std::process::ExitCode::FAILURE;
        }
    }
    let result = actix_web::rt::System::new().block_on(serve(cfg));
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

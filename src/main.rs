//! The `streamdom` binary: `streamdom serve` runs the hub. (The load tool is its own binary,
//! `streamdom-bench`, in bench/load.)

use clap::{Parser, Subcommand};
use streamdom::config::Config;

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
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("info,actix_server=warn"),
    )
    .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(cfg) => actix_web::rt::System::new().block_on(serve(cfg)),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
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

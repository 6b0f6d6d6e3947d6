//! Starting and stopping the hub: the database, the actors and the HTTP server, wired together.
//! The binary, the tests and the bench all start it through [`run`].

use std::{net::SocketAddr, sync::Arc};

use actix::{Actor, Addr};
use actix_web::{dev::ServerHandle, web::Data, App, HttpServer};

use crate::{
    api::{self, AppState},
    auth,
    config::Config,
    db::{self, Store},
    error::{Error, Result},
    ops,
    registry::{CloseAll, Registry, Shutdown},
    retention::{self, Retention},
    session::budget::Budget,
    spool::Spool,
    writer::{CloseSpool, Drain, Writer},
};

/// Every response's policy: scripts only from the hub (none inline, none from a recorded page,
/// whose replay iframe inherits this policy), no framing of the dashboard. Recorded pages' own
/// styles, images and fonts must load for a faithful replay.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src * data: blob:; font-src * data:; \
     media-src * data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// How long a stop waits for the writer to store what was accepted.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// How long a stop waits for connections to finish once every socket was told to close.
const CLOSE_TIMEOUT_SECS: u64 = 5;

/// A running hub.
pub struct Server {
    /// The address actually bound (the port is chosen by the OS when the config says 0).
    pub addr: SocketAddr,
    handle: ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    registry: Addr<Registry>,
    writer: Addr<Writer>,
    retention: Addr<Retention>,
    presence: Addr<crate::presence::Presence>,
}

/// Prints a one-time notice (a first password, the snippet to paste) to stderr, never through
/// the log, which may be kept or shipped; in the log's own form, so that a JSON log stays one
/// object a line.
fn announce(cfg: &Config, text: &str) {
    match cfg.log_format {
        crate::config::LogFormat::Json => eprintln!(
            "{}",
            serde_json::json!({
                "ts": crate::protocol::rfc3339(crate::event::now_ms()),
                "level": "WARN",
                "target": "streamdom::server",
                "message": text,
            })
        ),
        crate::config::LogFormat::Text => eprintln!("\n{text}\n"),
    }
}

/// Opens the database (running migrations), starts the actors and binds the HTTP server.
/// Must be called inside an actix system.
pub async fn run(cfg: Config) -> Result<Server> {
    let cfg = Arc::new(cfg);
    // First, so that a port in use is reported before anything else starts.
    let listener = ops::listen(cfg.bind)?;
    let url = cfg.resolved_database_url();
    let pool = db::connect_waiting(url.clone(), cfg.db_pool_size, cfg.db_connect_timeout()).await?;
    let reads = db::read_pool(&url, cfg.db_read_pool_size)?;
    let store = Store::with_reads(pool, reads);
    let boot = cfg.clone();
    if let Some(password) = store.run(move |c| auth::bootstrap_admin(c, &boot)).await? {
        announce(
            &cfg,
            &format!(
                "Created the administrator `{}` with the password: {password}\n\
                 Sign in at /login and change it with `streamdom user passwd {}`.",
                cfg.admin_user, cfg.admin_user
            ),
        );
    }
    let boot = cfg.clone();
    if let Some(key) = store
        .run(move |c| auth::projects::bootstrap_default_project(c, &boot))
        .await?
    {
        let hub = cfg
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", cfg.bind));
        announce(
            &cfg,
            &format!(
                "Created the project `default`. Add this to the pages to record:\n\n{}\n\n\
                 More projects and allowed origins: `streamdom project --help`.",
                crate::assets::snippet(&hub, &key)
            ),
        );
    }
    let (dir, max) = (cfg.resolved_spool_dir(), cfg.spool_max_bytes);
    let spool = actix_web::web::block(move || Spool::open(&dir, max)).await??;
    if !spool.is_empty() {
        log::info!(
            "the spool holds {} records ({} bytes) from an earlier run: storing them first",
            spool.records(),
            spool.bytes()
        );
    }
    let bus = match &cfg.nats_url {
        Some(url) if !url.is_empty() => Some(crate::cluster::Bus::connect(&cfg, url).await?),
        _ => None,
    };
    let writer = Writer::new(store.clone(), cfg.clone(), spool).start();
    let budget = Arc::new(Budget::new(cfg.memory_budget_bytes));
    let registry = Registry::new(cfg.clone(), store.clone(), writer.clone(), budget.clone())
        .in_cluster(bus.clone())
        .start();
    let retention =
        Retention::new(store.clone(), registry.clone(), cfg.retention_interval()).start();
    let presence = crate::presence::Presence::new(cfg.clone(), registry.clone())
        .in_cluster(bus)
        .start();
    let keys = crate::auth::cache::KnownKeys::default();
    for project in store.run(crate::db::projects::list).await? {
        if let Some(key) = project.public_key.clone() {
            keys.put(&key, Some(&project));
        }
    }
    let state = Data::new(AppState {
        cfg: cfg.clone(),
        store,
        registry: registry.clone(),
        retention: retention.clone(),
        sign_ins: Default::default(),
        verified: Default::default(),
        limits: crate::limits::Limits::new(&cfg),
        keys,
        budget,
        presence: presence.clone(),
    });
    // A peer that stops reading is dropped by the kernel (see `Config::tcp_user_timeout_secs`).
    let tcp_user_timeout = (cfg.tcp_user_timeout_secs > 0)
        .then(|| std::time::Duration::from_secs(cfg.tcp_user_timeout_secs));
    let mut http = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(api::query_config())
            .app_data(api::path_config())
            .app_data(api::json_config())
            .wrap(
                actix_web::middleware::DefaultHeaders::new()
                    .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("X-Frame-Options", "DENY")),
            )
            .wrap(actix_web::middleware::from_fn(ops::method_not_allowed))
            .wrap(actix_web::middleware::from_fn(ops::head_as_get))
            .wrap(ops::quiet_logger())
            .wrap(actix_web::middleware::from_fn(ops::count_responses))
            .configure(ops::routes)
            .configure(api::routes)
            .default_service(actix_web::web::to(api::not_found))
    })
    .on_connect(move |conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(tcp_user_timeout) {
                log::warn!("cannot set TCP_USER_TIMEOUT: {e}");
            }
        }
    })
    .disable_signals()
    .shutdown_timeout(CLOSE_TIMEOUT_SECS)
    .listen(listener)
    .map_err(|e| Error::Startup(format!("cannot listen on {}: {e}", cfg.bind)))?;
    if let Some(workers) = cfg.workers {
        http = http.workers(workers);
    }
    let addr = http
        .addrs()
        .first()
        .copied()
        .ok_or_else(|| Error::internal("no listening address"))?;
    let server = http.run();
    let handle = server.handle();
    let running = actix_web::rt::spawn(server);
    log::info!("listening on http://{addr}");
    Ok(Server {
        addr,
        handle,
        running,
        registry,
        writer,
        retention,
        presence,
    })
}

impl Server {
    /// Runs a retention pass now, after any running one, and says what it deleted (the periodic
    /// task sends the same message; tests call this to run one at a known moment).
    pub async fn run_retention(&self) -> Result<retention::Report> {
        self.retention.send(retention::RunPass).await?
    }

    /// Stops gracefully, within bounded time: takes no new connections, sessions take no new
    /// events or viewers, every accepted event is stored and its final ack sent, then every
    /// socket is closed with 1012 `shutting_down`. Sessions are not ended: their recorders
    /// reconnect to the next run and continue them.
    pub async fn stop(self) -> Result<()> {
        self.handle.pause().await;
        self.retention.do_send(retention::Stop);
        let active = self.registry.send(Shutdown).await?;
        // With the database down the writer would retry forever; stop waiting at some point.
        if actix_web::rt::time::timeout(DRAIN_TIMEOUT, self.writer.send(Drain))
            .await
            .is_err()
        {
            log::error!(
                "the database did not take the last events within {DRAIN_TIMEOUT:?}; \
                 they were not acknowledged, and their recorders will send them again"
            );
        }
        self.registry.send(CloseAll).await?;
        self.presence.send(crate::presence::CloseAll).await?;
        self.handle.stop(true).await;
        self.writer.send(CloseSpool).await?;
        let _ = self.running.await;
        log::info!("stopped; {active} active sessions left to continue on the next start");
        Ok(())
    }
}

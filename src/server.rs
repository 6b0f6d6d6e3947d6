//! Starting and stopping the hub: the database, the actors and the HTTP server, wired together.
//! The binary, the tests and the bench all start it through [`run`].

use std::{net::SocketAddr, sync::Arc};

use actix::{Actor, Addr};
use actix_web::{dev::ServerHandle, web::Data, App, HttpServer};

use crate::{
    api::{self, AppState},
    config::Config,
    db::{self, Store},
    error::{Error, Result},
    ops,
    registry::{Registry, Shutdown},
    writer::{Drain, Writer},
};

/// A connection whose peer has left data unacknowledged (or its window shut) this long is
/// dropped by the kernel: a viewer that stops reading is not otherwise noticed, since its socket
/// actor is only polled when the socket can take more.
const TCP_USER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a stop waits for the writer to store what was accepted.
const DRAIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A running hub.
pub struct Server {
    /// The address actually bound (the port is chosen by the OS when the config says 0).
    pub addr: SocketAddr,
    handle: ServerHandle,
    running: actix_web::rt::task::JoinHandle<std::io::Result<()>>,
    registry: Addr<Registry>,
    writer: Addr<Writer>,
}

/// Opens the database (running migrations), starts the actors and binds the HTTP server.
/// Must be called inside an actix system.
pub async fn run(cfg: Config) -> Result<Server> {
    let cfg = Arc::new(cfg);
    // First, so that a port in use is reported before anything else starts.
    let listener = ops::listen(cfg.bind)?;
    let url = cfg.resolved_database_url();
    let pool = db::connect_waiting(url, cfg.db_pool_size, cfg.db_connect_timeout()).await?;
    let store = Store::new(pool);
    let writer = Writer::new(store.clone(), cfg.clone()).start();
    let registry = Registry::new(cfg.clone(), store.clone(), writer.clone()).start();
    let state = Data::new(AppState {
        cfg: cfg.clone(),
        store,
        registry: registry.clone(),
    });
    let mut http = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(api::query_config())
            .app_data(api::path_config())
            .wrap(actix_web::middleware::from_fn(ops::method_not_allowed))
            .wrap(actix_web::middleware::from_fn(ops::head_as_get))
            .wrap(ops::quiet_logger())
            .wrap(actix_web::middleware::from_fn(ops::count_responses))
            .configure(ops::routes)
            .configure(api::routes)
            .default_service(actix_web::web::to(api::not_found))
    })
    .on_connect(|conn, _| {
        if let Some(tcp) = conn.downcast_ref::<actix_web::rt::net::TcpStream>() {
            if let Err(e) = socket2::SockRef::from(tcp).set_tcp_user_timeout(Some(TCP_USER_TIMEOUT))
            {
                log::warn!("cannot set TCP_USER_TIMEOUT: {e}");
            }
        }
    })
    .disable_signals()
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
    })
}

impl Server {
    /// Stops serving and makes every accepted event durable. Sessions are not ended: their
    /// recorders reconnect to the next run and continue them.
    pub async fn stop(self) -> Result<()> {
        self.handle.stop(false).await;
        let _ = self.running.await;
        let active = self.registry.send(Shutdown).await?;
        // With the database down the writer would retry forever; stop waiting at some point.
        if actix_web::rt::time::timeout(DRAIN_TIMEOUT, self.writer.send(Drain))
            .await
            .is_err()
        {
            log::error!(
                "the database did not take the last events within {DRAIN_TIMEOUT:?}; they are lost"
            );
        }
        log::info!("stopped; {active} active sessions left to continue on the next start");
        Ok(())
    }
}

//! Building the application from settings and serving it: which roles a process plays (`roles`), the
//! stores it opens (`stores`), its routes (`http`) and its background work (`workers`); the operations
//! endpoints are in `crate::health`, the API's reference documents in `reference`.

mod http;
pub mod reference;
mod roles;
mod stores;
mod workers;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use platform::Settings;
use projectors::runner::LagBoard;
use projectors::search::CatalogIndex;
use saga::Broker;
use saga::gateway::ConfiguredGateway;
use tokio::net::TcpListener;
use tokio::sync::watch;

pub use roles::{Role, Roles};
pub use stores::{Stores, broker};

pub struct Application {
    listener: TcpListener,
    router: Router,
    stores: Stores,
    role: Roles,
    lag: LagBoard,
    /// The catalog's search index, in processes that serve queries.
    catalog: Option<CatalogIndex>,
    broker: Broker,
    smtp_url: String,
    payment_deadline: Duration,
    gateway: Arc<ConfiguredGateway>,
}

impl Application {
    pub async fn build(settings: &Settings, role: impl Into<Roles>) -> anyhow::Result<Self> {
        let role = role.into();
        // Which data this process works on, so that two deployments sharing servers can be told apart.
        tracing::info!(
            postgres_database = %settings.postgres_database(),
            mongodb_database = %settings.mongodb_database,
            redis_prefix = %settings.redis_prefix,
            amqp_vhost = %settings.amqp_vhost(),
            amqp_prefix = %settings.amqp_prefix,
            "stores"
        );
        let stores = Stores::open(settings).await?;
        let lag = LagBoard::default();
        // Each process that serves queries holds the catalog itself (docs/adr/0013).
        let catalog = if role.serves_queries() {
            Some(
                CatalogIndex::with_answer_cache(settings.catalog_answer_cache)
                    .context("could not create the catalog index")?,
            )
        } else {
            None
        };
        let router = http::router(settings, &stores, &role, &lag, catalog.as_ref());
        let listener = TcpListener::bind(settings.http_addr)
            .await
            .with_context(|| format!("could not listen on {}", settings.http_addr))?;
        Ok(Self {
            listener,
            router,
            stores,
            role,
            lag,
            catalog,
            smtp_url: settings.smtp_url.expose().to_owned(),
            payment_deadline: settings.payment_deadline,
            gateway: Arc::new(stores::gateway(settings)?),
            broker: broker(settings),
        })
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    pub fn stores(&self) -> &Stores {
        &self.stores
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let background = workers::background(&self);
        let (stop_workers, stopping) = watch::channel(false);
        let workers = workers::start(&self, stopping);
        let served = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await;
        let _ = stop_workers.send(true);
        for worker in workers {
            let _ = worker.await;
        }
        for task in background {
            task.abort();
        }
        served.context("the HTTP server failed")
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }
}

/// `shop serve`: builds the roles' application and serves it until Ctrl-C or SIGTERM.
pub async fn serve(settings: &Settings, roles: Roles) -> anyhow::Result<()> {
    let app = Application::build(settings, roles.clone()).await?;
    tracing::info!(addr = %settings.http_addr, port = app.port(), role = ?roles.0, "serving");
    app.run_until_stopped().await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

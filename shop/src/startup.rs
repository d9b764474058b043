//! Building the application from settings and serving it.

pub mod reference;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, Request, header};
use axum::middleware::{from_fn, map_response};
use command_api::CommandState;
use command_api::passwords::Hashing;
use command_api::state::Limits;
use eventstore::db::PgPool;
use eventstore::feed::HorizonAge;
use eventstore::tail::FeedTail;
use eventstore::wake::Wakeups;
use eventstore::{CommandBus, Feed, IdempotencyStore, UniqueClaims};
use platform::Settings;
use platform::auth::Authenticator;
use platform::client::TrustedProxies;
use platform::near_cache::{self, NearCache};
use platform::rate_limit::RateLimiter;
use platform::settings::PaymentGatewayChoice;
use platform::tokens::{DenyList, TokenService};
use projectors::runner::LagBoard;
use projectors::search::CatalogIndex;
use projectors::store::ReadStores;
use projectors::store::query::ReadModels;
use query_api::QueryState;
use redis::aio::ConnectionManager;
use saga::checkout::CheckoutSaga;
use saga::gateway::{ConfiguredGateway, SimulatedGateway};
use saga::notifier::{Mailer, NOTIFIER, NOTIFIER_BINDINGS, Notifier};
use saga::relay::Relay;
use saga::stripe::{StripeConfig, StripeGateway};
use saga::{Broker, topology};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::health::Readiness;

const BODY_LIMIT: usize = 64 * 1024;
/// Without any wake-up, feed subscribers still look for new events this often.
const WAKE_POLL: Duration = Duration::from_secs(2);
const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// Hot Redis values kept in memory: every product detail, stock level, cart and token answer read lately
/// (about a kilobyte each at most).
const NEAR_CACHE_CAPACITY: u64 = 50_000;

/// Which parts of the shop this process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Everything in one process.
    All,
    /// The write endpoints.
    CommandApi,
    /// The read endpoints.
    QueryApi,
    /// The projectors that keep the read models up to date.
    Projectors,
    /// The checkout saga (and its payment deadlines).
    Saga,
    /// The relay that publishes the event log to RabbitMQ.
    Relay,
}

/// The roles one process plays, e.g. `--role command-api,query-api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles(pub Vec<Role>);

impl Roles {
    pub fn all() -> Self {
        Self(vec![Role::All])
    }

    fn has(&self, role: Role) -> bool {
        self.0.iter().any(|r| *r == Role::All || *r == role)
    }

    fn serves_commands(&self) -> bool {
        self.has(Role::CommandApi)
    }

    fn serves_queries(&self) -> bool {
        self.has(Role::QueryApi)
    }

    fn runs_projectors(&self) -> bool {
        self.has(Role::Projectors)
    }

    fn runs_saga(&self) -> bool {
        self.has(Role::Saga)
    }

    fn runs_relay(&self) -> bool {
        self.has(Role::Relay)
    }
}

impl From<Role> for Roles {
    fn from(role: Role) -> Self {
        Self(vec![role])
    }
}

/// What the CLI and the server share: the stores, opened from settings.
#[derive(Clone)]
pub struct Stores {
    pub pool: PgPool,
    pub redis: ConnectionManager,
    /// For the near cache's subscription, which needs a connection of its own.
    pub redis_client: redis::Client,
    /// Hot Redis values in memory; it serves from memory once `Application::run` has subscribed it.
    pub near_cache: NearCache,
    pub bus: Arc<CommandBus>,
    pub read: ReadStores,
}

impl Stores {
    /// Opens PostgreSQL (lazily) and Redis, and applies pending migrations.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        let pool = eventstore::connect(
            settings.database_url.expose(),
            settings.database_max_connections,
        )
        .context("DATABASE_URL is not a valid PostgreSQL URL")?;
        eventstore::migrate(&pool).await.context(
            "could not migrate the event store (is PostgreSQL running? see scripts/services.sh)",
        )?;
        let client = redis::Client::open(settings.redis_url.expose())
            .context("REDIS_URL is not a valid URL")?;
        let redis = ConnectionManager::new(client.clone())
            .await
            .context("could not connect to Redis (is it running? see scripts/services.sh)")?;
        let bus = Arc::new(CommandBus::new(pool.clone()));
        let announcements = near_cache::channel(
            &settings.redis_prefix,
            client.get_connection_info().redis_settings().db(),
        );
        let read = ReadStores::connect(
            settings.mongodb_url.expose(),
            &settings.mongodb_database,
            redis.clone(),
            &settings.redis_prefix,
            &announcements,
        )
        .await
        .context("MONGODB_URL is not a valid MongoDB URL")?;
        Ok(Self {
            pool,
            redis,
            redis_client: client,
            near_cache: NearCache::with_max_age(
                announcements,
                NEAR_CACHE_CAPACITY,
                settings.near_cache_max_age,
            ),
            bus,
            read,
        })
    }

    pub fn command_state(&self, settings: &Settings) -> CommandState {
        CommandState {
            bus: self.bus.clone(),
            claims: UniqueClaims::new(self.pool.clone()),
            idempotency: IdempotencyStore::new(self.pool.clone()),
            auth: self.authenticator(settings),
            rate_limiter: RateLimiter::new(self.redis.clone(), &settings.redis_prefix),
            limits: Limits {
                login_failures_per_minute: settings.login_failures_per_minute,
                login_failures_per_client_per_minute: settings.login_failures_per_client_per_minute,
                login_email_brake_per_minute: settings.login_email_brake_per_minute,
                registrations_per_minute: settings.registrations_per_minute,
            },
            hashing: Hashing::new(settings.password_hashes_at_once as usize),
        }
    }

    fn authenticator(&self, settings: &Settings) -> Authenticator {
        Authenticator {
            tokens: Arc::new(TokenService::new(
                settings.jwt_secret.expose().as_bytes(),
                settings.token_ttl,
            )),
            deny_list: Arc::new(DenyList::new(
                self.redis.clone(),
                self.near_cache.clone(),
                &settings.redis_prefix,
            )),
        }
    }
}

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
        let router = router(settings, &stores, &role, &lag, catalog.as_ref());
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
            gateway: Arc::new(gateway(settings)?),
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
        let mut background = Vec::new();
        if self.role.serves_commands() {
            background.push(tokio::spawn(purge_idempotency_keys(IdempotencyStore::new(
                self.stores.pool.clone(),
            ))));
            background.push(tokio::spawn(
                self.stores
                    .bus
                    .commits()
                    .clone()
                    .forward_to_postgres(self.stores.pool.clone()),
            ));
        }
        let (stop_workers, stopping) = watch::channel(false);
        let commits = Wakeups::start(
            self.stores.pool.clone(),
            Some(self.stores.bus.commits()),
            WAKE_POLL,
        );
        // The feed's subscribers in this process read it through one shared tail (eventstore::tail), woken
        // when it holds new events.
        let subscribes =
            self.catalog.is_some() || self.role.runs_projectors() || self.role.runs_relay();
        let (feed, wakeups) = if subscribes {
            let tail = FeedTail::start(
                Feed::new(self.stores.pool.clone()),
                commits,
                stopping.clone(),
            );
            let wakeups = tail.wakeups(WAKE_POLL);
            (Feed::new(self.stores.pool.clone()).with_tail(tail), wakeups)
        } else {
            (Feed::new(self.stores.pool.clone()), commits)
        };
        let mut workers = Vec::new();
        if self.role.serves_commands() || self.role.serves_queries() {
            workers.push(tokio::spawn(
                self.stores
                    .near_cache
                    .clone()
                    .run(self.stores.redis_client.clone(), stopping.clone()),
            ));
        }
        if let Some(catalog) = &self.catalog {
            workers.push(tokio::spawn(catalog.clone().run(
                feed.clone(),
                wakeups.clone(),
                stopping.clone(),
            )));
        }
        if self.role.runs_projectors() {
            workers.extend(projectors::runner::spawn_all(
                &self.stores.pool,
                &feed,
                &self.stores.read,
                &wakeups,
                &self.lag,
                stopping.clone(),
            ));
        }
        if self.role.runs_projectors() || self.role.runs_relay() {
            workers.push(tokio::spawn(watch_the_horizon(
                Feed::new(self.stores.pool.clone()),
                stopping.clone(),
            )));
        }
        if self.role.runs_relay() {
            workers.push(tokio::spawn(seal_the_feed(
                self.stores.pool.clone(),
                stopping.clone(),
            )));
            let relay =
                Relay::new(self.stores.pool.clone(), self.broker.clone()).with_feed(feed.clone());
            workers.push(tokio::spawn(relay.run(wakeups.clone(), stopping.clone())));
        }
        if self.role.runs_saga() {
            let saga = Arc::new(
                CheckoutSaga::new(
                    self.stores.bus.clone(),
                    self.gateway.clone(),
                    self.stores.pool.clone(),
                )
                .with_payment_deadline(self.payment_deadline),
            );
            workers.push(tokio::spawn(saga::consumer::run(
                self.broker.clone(),
                topology::SAGA,
                &topology::SAGA_BINDINGS,
                saga.clone(),
                self.stores.pool.clone(),
                stopping.clone(),
            )));
            workers.push(tokio::spawn(saga::checkout::run_timers(
                saga,
                stopping.clone(),
            )));
            workers.push(tokio::spawn(saga::instances::report(
                self.stores.pool.clone(),
                stopping.clone(),
            )));
            match Mailer::from_url(&self.smtp_url) {
                Ok(mailer) => {
                    let notifier = Arc::new(Notifier::new(self.stores.bus.clone(), mailer));
                    workers.push(tokio::spawn(saga::consumer::run(
                        self.broker.clone(),
                        NOTIFIER,
                        &NOTIFIER_BINDINGS,
                        notifier,
                        self.stores.pool.clone(),
                        stopping.clone(),
                    )));
                }
                Err(error) => {
                    tracing::error!(%error, "SMTP_URL is not usable; no mail will be sent")
                }
            }
        }
        drop(wakeups);
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

/// Builds every route of `role`, with the layers every request passes through.
pub fn router(
    settings: &Settings,
    stores: &Stores,
    role: &Roles,
    lag: &LagBoard,
    catalog: Option<&CatalogIndex>,
) -> Router {
    // Install the recorder before the first request, so no early measurement is lost.
    platform::metrics::recorder();
    if role.serves_commands() || role.runs_saga() {
        eventstore::business::register_at_zero();
    }
    let mut api = Router::new();
    if role.serves_commands() {
        api = api.merge(command_api::router(stores.command_state(settings)));
    }
    if let Some(catalog) = catalog {
        api = api.merge(query_api::router(QueryState {
            catalog: catalog.clone(),
            feed: Feed::new(stores.pool.clone()),
            pool: stores.pool.clone(),
            models: Arc::new(ReadModels::new(
                stores.read.clone(),
                stores.near_cache.clone(),
            )),
            auth: stores.authenticator(settings),
        }));
    }
    let serves_api = role.serves_commands() || role.serves_queries();
    if serves_api {
        api = api.merge(reference::document_router());
    }
    let api = api
        .fallback(|| async { no_such_route() })
        .layer(axum::Extension(TrustedProxies(
            settings.trusted_proxies.clone(),
        )))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(platform::metrics::track));

    let readiness = Readiness::new(
        stores.pool.clone(),
        stores.redis.clone(),
        stores.read.clone(),
        broker(settings),
        lag.clone(),
        catalog.cloned(),
    );
    let mut app = Router::new()
        .nest(reference::API_BASE, api)
        .merge(crate::health::operations_router(readiness));
    if serves_api {
        app = app.merge(reference::ui());
    }
    let index = format!("{}/index.html", settings.frontend_dir);
    if std::path::Path::new(&index).exists() {
        // Unknown paths under / are the storefront's own routes: answer with its index page.
        app = app.fallback_service(
            ServeDir::new(&settings.frontend_dir).fallback(ServeFile::new(index)),
        );
    }
    app.layer(map_response(platform::problem::problem_for_plain_errors))
        .layer(map_response(security_headers))
        .layer(cors(settings))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(from_fn(platform::request_ids::drop_unacceptable_ids))
}

/// RabbitMQ, as the settings name it.
pub fn broker(settings: &Settings) -> Broker {
    Broker {
        url: settings.amqp_url.expose().to_owned(),
        prefix: settings.amqp_prefix.clone(),
        retry_base: settings.retry_base,
    }
}

/// The payment gateway the settings name.
fn gateway(settings: &Settings) -> anyhow::Result<ConfiguredGateway> {
    Ok(match &settings.payment_gateway {
        PaymentGatewayChoice::Simulated => ConfiguredGateway::Simulated(SimulatedGateway::new()),
        PaymentGatewayChoice::Stripe {
            api_url,
            secret_key,
            payment_methods,
        } => ConfiguredGateway::Stripe(StripeGateway::new(StripeConfig {
            api_url: api_url.clone(),
            secret_key: secret_key.expose().to_owned(),
            payment_methods: payment_methods.clone(),
        })?),
    })
}

/// The span around a request: every log line inside it carries the request and correlation ids (the
/// correlation id is the caller's `X-Correlation-Id`, else the request id, as the command metadata has it).
fn request_span(request: &Request<axum::body::Body>) -> tracing::Span {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    let request_id = header(REQUEST_ID.as_str()).unwrap_or("-");
    let correlation_id = header("x-correlation-id").unwrap_or(request_id);
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id,
        correlation_id,
    )
}

/// The answer under `/api/v1` for a path no route has. Its own problem type tells a client (and the test
/// that every documented route is served) that the route is missing, not the resource it names.
fn no_such_route() -> platform::Problem {
    platform::Problem::new(
        axum::http::StatusCode::NOT_FOUND,
        "no_such_route",
        "There is no such endpoint; see /api/v1/openapi.json.",
    )
}

/// The storefront and Swagger UI load scripts, styles and fonts from this origin only, and no page of the
/// shop may be framed. Images may be `data:` URIs (Swagger UI's icons).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// Headers every answer carries (compose's nginx sets the same for what it serves itself).
async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers
            .entry(name)
            .or_insert(HeaderValue::from_static(value));
    }
    response
}

fn cors(settings: &Settings) -> CorsLayer {
    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-min-position"),
            HeaderName::from_static("x-correlation-id"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            REQUEST_ID,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("x-read-model-stale"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Seals the audit log's feed every second (docs/adr/0001), until `shutdown`.
async fn seal_the_feed(pool: PgPool, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(error) = eventstore::audit::seal(&pool).await {
            tracing::warn!(%error, "could not seal the audit log; will retry");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {},
            _ = shutdown.changed() => {},
        }
    }
}

/// Shows how long the oldest writing transaction of the shop's database has held the feed back
/// (`shop_feed_horizon_age_seconds`, docs/adr/0011), in every process that reads the feed.
async fn watch_the_horizon(feed: Feed, mut shutdown: watch::Receiver<bool>) {
    metrics::gauge!("shop_feed_horizon_age_seconds").set(0.0);
    let mut age = HorizonAge::default();
    while !*shutdown.borrow() {
        match feed.holding_transaction().await {
            Ok(holder) => metrics::gauge!("shop_feed_horizon_age_seconds")
                .set(age.observe(holder, std::time::Instant::now()).as_secs_f64()),
            Err(error) => tracing::warn!(%error, "could not read the feed's horizon; will retry"),
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(5)) => {},
            _ = shutdown.changed() => {},
        }
    }
}

async fn purge_idempotency_keys(store: IdempotencyStore) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        match store.purge_expired().await {
            Ok(n) => tracing::debug!(purged = n, "expired idempotency keys"),
            Err(e) => tracing::warn!(error = %e, "could not purge idempotency keys; will retry"),
        }
    }
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

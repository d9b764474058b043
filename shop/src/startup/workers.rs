//! The background work of a process: the feed's subscribers (through one shared tail), the relay, the saga
//! and the notifier, and the housekeeping loops, each started only where its role runs.

use std::sync::Arc;
use std::time::Duration;

use eventstore::db::PgPool;
use eventstore::feed::HorizonAge;
use eventstore::tail::FeedTail;
use eventstore::wake::Wakeups;
use eventstore::{Feed, IdempotencyStore};
use saga::checkout::CheckoutSaga;
use saga::notifier::{Mailer, NOTIFIER, NOTIFIER_BINDINGS, Notifier};
use saga::relay::Relay;
use saga::topology;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::Application;

/// Without any wake-up, feed subscribers still look for new events this often.
const WAKE_POLL: Duration = Duration::from_secs(2);

/// How often the media sweep looks for files no image names, and how old such a file must be to go: an
/// upload stores its files a moment before the event that names them.
const MEDIA_SWEEP_EVERY: Duration = Duration::from_secs(3600);
const MEDIA_SWEEP_GRACE: Duration = Duration::from_secs(3600);

/// Housekeeping that needs no orderly stop (aborted when the server has stopped).
pub(super) fn background(app: &Application) -> Vec<JoinHandle<()>> {
    let mut background = Vec::new();
    if app.role.serves_commands() {
        background.push(tokio::spawn(crate::media::sweep_now_and_then(
            app.stores.pool.clone(),
            app.stores.media.clone(),
            MEDIA_SWEEP_EVERY,
            MEDIA_SWEEP_GRACE,
        )));
        background.push(tokio::spawn(purge_idempotency_keys(IdempotencyStore::new(
            app.stores.pool.clone(),
        ))));
        background.push(tokio::spawn(
            app.stores
                .bus
                .commits()
                .clone()
                .forward_to_postgres(app.stores.pool.clone()),
        ));
    }
    background
}

/// Starts the workers of the process's roles; each stops when `stopping` turns true.
pub(super) fn start(app: &Application, stopping: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
    let commits = Wakeups::start(
        app.stores.pool.clone(),
        Some(app.stores.bus.commits()),
        WAKE_POLL,
    );
    // The feed's subscribers in this process read it through one shared tail (eventstore::tail), woken
    // when it holds new events.
    let subscribes = app.catalog.is_some() || app.role.runs_projectors() || app.role.runs_relay();
    let (feed, wakeups) = if subscribes {
        let tail = FeedTail::start(
            Feed::new(app.stores.pool.clone()),
            commits,
            stopping.clone(),
        );
        let wakeups = tail.wakeups(WAKE_POLL);
        (Feed::new(app.stores.pool.clone()).with_tail(tail), wakeups)
    } else {
        (Feed::new(app.stores.pool.clone()), commits)
    };
    let mut workers = Vec::new();
    if app.role.serves_commands() || app.role.serves_queries() {
        workers.push(tokio::spawn(
            app.stores
                .near_cache
                .clone()
                .run(app.stores.redis_client.clone(), stopping.clone()),
        ));
    }
    if let Some(catalog) = &app.catalog {
        workers.push(tokio::spawn(catalog.clone().run(
            feed.clone(),
            wakeups.clone(),
            stopping.clone(),
        )));
    }
    if app.role.runs_projectors() {
        workers.extend(projectors::runner::spawn_all(
            &app.stores.pool,
            &feed,
            &app.stores.read,
            &wakeups,
            &app.lag,
            stopping.clone(),
        ));
    }
    if app.role.runs_projectors() || app.role.runs_relay() {
        workers.push(tokio::spawn(watch_the_horizon(
            Feed::new(app.stores.pool.clone()),
            stopping.clone(),
        )));
    }
    if app.role.runs_relay() {
        workers.push(tokio::spawn(seal_the_feed(
            app.stores.pool.clone(),
            stopping.clone(),
        )));
        let relay = Relay::new(app.stores.pool.clone(), app.broker.clone()).with_feed(feed.clone());
        workers.push(tokio::spawn(relay.run(wakeups.clone(), stopping.clone())));
    }
    if app.role.runs_saga() {
        let saga = Arc::new(
            CheckoutSaga::new(
                app.stores.bus.clone(),
                app.gateway.clone(),
                app.stores.pool.clone(),
            )
            .with_payment_deadline(app.payment_deadline),
        );
        workers.push(tokio::spawn(saga::consumer::run(
            app.broker.clone(),
            topology::SAGA,
            &topology::SAGA_BINDINGS,
            saga.clone(),
            app.stores.pool.clone(),
            stopping.clone(),
        )));
        workers.push(tokio::spawn(saga::checkout::run_timers(
            saga,
            stopping.clone(),
        )));
        workers.push(tokio::spawn(saga::instances::report(
            app.stores.pool.clone(),
            stopping.clone(),
        )));
        match Mailer::from_url(&app.smtp_url) {
            Ok(mailer) => {
                let notifier = Arc::new(Notifier::new(app.stores.bus.clone(), mailer));
                workers.push(tokio::spawn(saga::consumer::run(
                    app.broker.clone(),
                    NOTIFIER,
                    &NOTIFIER_BINDINGS,
                    notifier,
                    app.stores.pool.clone(),
                    stopping.clone(),
                )));
            }
            Err(error) => {
                tracing::error!(%error, "SMTP_URL is not usable; no mail will be sent")
            }
        }
    }
    workers
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

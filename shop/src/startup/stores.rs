//! The stores a process opens from its settings: PostgreSQL, Redis (with the near cache), MongoDB, the media
//! store, RabbitMQ and the payment gateway.

use std::sync::Arc;

use anyhow::Context;
use command_api::CommandState;
use command_api::passwords::Hashing;
use command_api::state::Limits;
use command_api::usecases::images::Images;
use eventstore::db::PgPool;
use eventstore::{CommandBus, IdempotencyStore, UniqueClaims};
use platform::Settings;
use platform::auth::Authenticator;
use platform::media::MediaStore;
use platform::near_cache::{self, NearCache};
use platform::rate_limit::RateLimiter;
use platform::settings::PaymentGatewayChoice;
use platform::tokens::{DenyList, TokenService};
use projectors::store::ReadStores;
use redis::aio::ConnectionManager;
use saga::Broker;
use saga::gateway::{ConfiguredGateway, SimulatedGateway};
use saga::stripe::{StripeConfig, StripeGateway};

/// Hot Redis values kept in memory: every product detail, stock level, cart and token answer read lately
/// (about a kilobyte each at most).
const NEAR_CACHE_CAPACITY: u64 = 50_000;

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
    /// Product images' files.
    pub media: MediaStore,
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
        let media = MediaStore::open(&settings.media).context("SHOP_MEDIA_URL")?;
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
            media,
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
            images: Images::new(self.media.clone(), settings.image_decodes_at_once as usize),
        }
    }

    pub(crate) fn authenticator(&self, settings: &Settings) -> Authenticator {
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

/// RabbitMQ, as the settings name it.
pub fn broker(settings: &Settings) -> Broker {
    Broker {
        url: settings.amqp_url.expose().to_owned(),
        prefix: settings.amqp_prefix.clone(),
        retry_base: settings.retry_base,
    }
}

/// The payment gateway the settings name.
pub(super) fn gateway(settings: &Settings) -> anyhow::Result<ConfiguredGateway> {
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

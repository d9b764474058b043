//! Configuration from the environment, with defaults that point at the local services.

use std::net::SocketAddr;
use std::time::Duration;

/// The secret used when `JWT_SECRET` is unset; refused in production.
const DEVELOPMENT_JWT_SECRET: &str = "development-secret-change-me-0123456789";

pub use crate::secret::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Which payment provider the saga talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentGatewayChoice {
    /// The built-in gateway that behaves like the provider's test cards (the default).
    Simulated,
    /// Stripe's Payment Intents API at `api_url` (or a server speaking it).
    Stripe {
        api_url: String,
        secret_key: Secret,
        /// Our payment-method tokens → Stripe's, as `ours=theirs,...`.
        payment_methods: String,
    },
}

/// Stripe's own test payment methods, under our tokens' names (API.md's test cards).
const STRIPE_TEST_PAYMENT_METHODS: &str = "pm_card_visa=pm_card_visa,\
     pm_card_mastercard=pm_card_mastercard,\
     pm_card_declined=pm_card_chargeDeclined,\
     pm_card_insufficient_funds=pm_card_chargeDeclinedInsufficientFunds";

#[derive(Debug, Clone)]
pub struct Settings {
    pub environment: Environment,
    pub http_addr: SocketAddr,
    /// Contains a password when the database needs one, hence a secret.
    pub database_url: Secret,
    pub database_max_connections: u32,
    pub redis_url: Secret,
    /// Prefix of every Redis key this instance writes, so tests and tenants can share a server.
    pub redis_prefix: String,
    /// The longest a hot Redis value stays in the near cache's memory (ADR 0010).
    pub near_cache_max_age: Duration,
    pub mongodb_url: Secret,
    /// The MongoDB database that holds the read models.
    pub mongodb_database: String,
    pub amqp_url: Secret,
    /// Prefix of every exchange and queue name, so several shops (or tests) share one broker.
    pub amqp_prefix: String,
    /// Delay before a failed message's first retry; each later retry waits four times longer.
    pub retry_base: Duration,
    /// How long the saga waits for a payment before cancelling the order (`payment_timeout`).
    pub payment_deadline: Duration,
    pub smtp_url: Secret,
    pub payment_gateway: PaymentGatewayChoice,
    pub jwt_secret: Secret,
    pub token_ttl: Duration,
    /// Origins allowed by CORS; empty allows none.
    pub cors_origins: Vec<String>,
    pub log_format: LogFormat,
    /// Failed logins allowed per (email, client address) pair in a minute.
    pub login_failures_per_minute: u64,
    /// Failed logins allowed per client address in a minute, whatever the emails.
    pub login_failures_per_client_per_minute: u64,
    /// Failed logins of one email in a minute, from anywhere, past which a client that has already failed
    /// on it is held back: a distributed attack slows down, the owner on a client that has not failed
    /// still gets in.
    pub login_email_brake_per_minute: u64,
    /// Password hashes (argon2id, 19 MiB each) this process runs at once; more answer 429 at once.
    pub password_hashes_at_once: u64,
    /// Proxies whose `X-Forwarded-For` is believed (`SHOP_TRUSTED_PROXIES`, comma-separated CIDRs).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Registrations allowed per client address in a minute.
    pub registrations_per_minute: u64,
    /// Where the built storefront is, served at `/` when it exists.
    pub frontend_dir: String,
    /// Whether the catalog index keeps whole answers per index generation (off only to measure searches).
    pub catalog_answer_cache: bool,
    /// Where product images' files live (`SHOP_MEDIA_URL`: `file://<dir>` or `s3://<bucket>/<prefix>`).
    pub media: crate::media::MediaLocation,
    /// Images this process decodes and resizes at once (`SHOP_IMAGE_DECODES_AT_ONCE`, default one per core);
    /// more uploads wait their turn.
    pub image_decodes_at_once: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name} is not valid: {reason}")]
    Invalid { name: &'static str, reason: String },
    #[error(
        "refusing to start in production with the default JWT_SECRET; set JWT_SECRET to 32+ random bytes"
    )]
    DefaultSecretInProduction,
}

impl Settings {
    /// The PostgreSQL database `DATABASE_URL` names (the server's default when it names none).
    pub fn postgres_database(&self) -> String {
        database_in_url(self.database_url.expose()).unwrap_or_else(|| "postgres".to_owned())
    }

    /// The RabbitMQ virtual host `AMQP_URL` names (`/`, the default, when it names none).
    pub fn amqp_vhost(&self) -> String {
        database_in_url(self.amqp_url.expose()).map_or_else(
            || "/".to_owned(),
            |vhost| vhost.replace("%2f", "/").replace("%2F", "/"),
        )
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, so tests can pass their own values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let get = |name: &str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let parse = |name: &'static str, default: &str| -> Result<u64, SettingsError> {
            get(name, default)
                .parse()
                .map_err(|e: std::num::ParseIntError| SettingsError::Invalid {
                    name,
                    reason: e.to_string(),
                })
        };
        let environment = match get("SHOP_ENV", "development").as_str() {
            "development" | "dev" => Environment::Development,
            "production" | "prod" => Environment::Production,
            other => {
                return Err(SettingsError::Invalid {
                    name: "SHOP_ENV",
                    reason: format!("{other:?} is neither development nor production"),
                });
            }
        };
        let jwt_secret = get("JWT_SECRET", DEVELOPMENT_JWT_SECRET);
        if environment == Environment::Production && jwt_secret == DEVELOPMENT_JWT_SECRET {
            return Err(SettingsError::DefaultSecretInProduction);
        }
        if jwt_secret.len() < 32 {
            return Err(SettingsError::Invalid {
                name: "JWT_SECRET",
                reason: "must be at least 32 bytes".to_owned(),
            });
        }
        let http_addr = get("SHOP_HTTP_ADDR", "127.0.0.1:8080").parse().map_err(
            |e: std::net::AddrParseError| SettingsError::Invalid {
                name: "SHOP_HTTP_ADDR",
                reason: e.to_string(),
            },
        )?;
        let payment_gateway = match get("PAYMENT_GATEWAY", "simulated").as_str() {
            "simulated" => PaymentGatewayChoice::Simulated,
            "stripe" => {
                let secret_key = get("STRIPE_SECRET_KEY", "");
                if !secret_key.starts_with("sk_") {
                    return Err(SettingsError::Invalid {
                        name: "STRIPE_SECRET_KEY",
                        reason: "PAYMENT_GATEWAY=stripe needs a secret key (sk_...)".to_owned(),
                    });
                }
                PaymentGatewayChoice::Stripe {
                    api_url: get("STRIPE_API_URL", "https://api.stripe.com"),
                    secret_key: Secret::new(secret_key),
                    payment_methods: get("STRIPE_PAYMENT_METHODS", STRIPE_TEST_PAYMENT_METHODS),
                }
            }
            other => {
                return Err(SettingsError::Invalid {
                    name: "PAYMENT_GATEWAY",
                    reason: format!("{other:?} is neither simulated nor stripe"),
                });
            }
        };
        let media = crate::media::MediaLocation::parse(
            &get("SHOP_MEDIA_URL", "file://.data/media"),
            &lookup,
        )
        .map_err(|reason| SettingsError::Invalid {
            name: "SHOP_MEDIA_URL",
            reason,
        })?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let log_format = match get("LOG_FORMAT", "pretty").as_str() {
            "json" => LogFormat::Json,
            _ => LogFormat::Pretty,
        };
        Ok(Self {
            environment,
            http_addr,
            database_url: Secret::new(get(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            )),
            database_max_connections: parse("DATABASE_MAX_CONNECTIONS", "32")? as u32,
            redis_url: Secret::new(get("REDIS_URL", "redis://127.0.0.1:6379")),
            redis_prefix: get("REDIS_PREFIX", "shop:"),
            near_cache_max_age: Duration::from_millis(parse("SHOP_NEAR_CACHE_MAX_AGE_MS", "5000")?),
            mongodb_database: lookup("MONGODB_DATABASE")
                .or_else(|| database_in_url(&get("MONGODB_URL", "")))
                .unwrap_or_else(|| "shop".to_owned()),
            mongodb_url: Secret::new(get(
                "MONGODB_URL",
                "mongodb://127.0.0.1:27017/?directConnection=true",
            )),
            amqp_url: Secret::new(get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")),
            amqp_prefix: get("AMQP_PREFIX", ""),
            retry_base: Duration::from_millis(parse("SAGA_RETRY_BASE_MS", "200")?),
            payment_deadline: Duration::from_millis(parse("SAGA_PAYMENT_DEADLINE_MS", "10000")?),
            smtp_url: Secret::new(get("SMTP_URL", "smtp://127.0.0.1:2525")),
            payment_gateway,
            jwt_secret: Secret::new(jwt_secret),
            token_ttl: Duration::from_secs(parse("JWT_TTL_SECONDS", "3600")?),
            cors_origins: get(
                "SHOP_CORS_ORIGINS",
                "http://127.0.0.1:8080,http://localhost:8080",
            )
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
            log_format,
            login_failures_per_minute: parse("SHOP_LOGIN_FAILURES_PER_MINUTE", "10")?,
            login_failures_per_client_per_minute: parse(
                "SHOP_LOGIN_FAILURES_PER_CLIENT_PER_MINUTE",
                "30",
            )?,
            login_email_brake_per_minute: parse("SHOP_LOGIN_EMAIL_BRAKE_PER_MINUTE", "100")?,
            password_hashes_at_once: parse("SHOP_PASSWORD_HASHES_AT_ONCE", "4")?.max(1),
            trusted_proxies: get("SHOP_TRUSTED_PROXIES", "")
                .split(',')
                .map(str::trim)
                .filter(|cidr| !cidr.is_empty())
                .map(|cidr| {
                    cidr.parse::<ipnet::IpNet>()
                        .or_else(|_| cidr.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                        .map_err(|e| SettingsError::Invalid {
                            name: "SHOP_TRUSTED_PROXIES",
                            reason: format!("{cidr:?}: {e}"),
                        })
                })
                .collect::<Result<_, _>>()?,
            registrations_per_minute: parse("SHOP_REGISTRATIONS_PER_MINUTE", "30")?,
            frontend_dir: get("SHOP_FRONTEND_DIR", "frontend/dist"),
            catalog_answer_cache: match get("SHOP_CATALOG_ANSWER_CACHE", "true").as_str() {
                "true" => true,
                "false" => false,
                _ => {
                    return Err(SettingsError::Invalid {
                        name: "SHOP_CATALOG_ANSWER_CACHE",
                        reason: "must be true or false".to_owned(),
                    });
                }
            },
            media,
            image_decodes_at_once: parse("SHOP_IMAGE_DECODES_AT_ONCE", &cores.to_string())?.max(1),
        })
    }
}

/// The database (or virtual host) a connection string names (`scheme://host/NAME?options`), as MongoDB's,
/// PostgreSQL's and RabbitMQ's own tools read it; `None` when it names none.
fn database_in_url(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    let name = path.split(['?', '#']).next().unwrap_or_default();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn it_should_default_to_the_local_services() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.http_addr.to_string(), "127.0.0.1:8080");
        assert_eq!(s.environment, Environment::Development);
    }

    #[test]
    fn it_should_use_the_database_named_in_mongodb_url_unless_mongodb_database_is_set() {
        let database = |vars: &[(&str, &str)]| settings(vars).unwrap().mongodb_database;
        assert_eq!(database(&[]), "shop");
        assert_eq!(
            database(&[(
                "MONGODB_URL",
                "mongodb://127.0.0.1:27017/?directConnection=true"
            )]),
            "shop"
        );
        assert_eq!(
            database(&[(
                "MONGODB_URL",
                "mongodb://u:p@db1,db2/orders_eu?replicaSet=rs0"
            )]),
            "orders_eu"
        );
        assert_eq!(
            database(&[
                ("MONGODB_URL", "mongodb://db/orders_eu"),
                ("MONGODB_DATABASE", "explicit"),
            ]),
            "explicit"
        );
    }

    #[test]
    fn it_should_name_the_postgres_database_and_the_amqp_vhost_it_uses() {
        let defaults = settings(&[]).unwrap();
        assert_eq!(defaults.postgres_database(), "postgres");
        assert_eq!(defaults.amqp_vhost(), "/");
        let named = settings(&[
            (
                "DATABASE_URL",
                "postgres://shop:secret@db:5432/shop_eu?sslmode=require",
            ),
            ("AMQP_URL", "amqp://shop:secret@mq:5672/eu"),
        ])
        .unwrap();
        assert_eq!(named.postgres_database(), "shop_eu");
        assert_eq!(named.amqp_vhost(), "eu");
    }

    #[test]
    fn it_should_take_stripe_only_with_a_secret_key() {
        assert_eq!(
            settings(&[]).unwrap().payment_gateway,
            PaymentGatewayChoice::Simulated
        );
        assert!(settings(&[("PAYMENT_GATEWAY", "stripe")]).is_err());
        assert!(settings(&[("PAYMENT_GATEWAY", "paypal")]).is_err());
        let stripe = settings(&[
            ("PAYMENT_GATEWAY", "stripe"),
            ("STRIPE_SECRET_KEY", "sk_test_1"),
        ])
        .unwrap()
        .payment_gateway;
        let PaymentGatewayChoice::Stripe {
            api_url,
            payment_methods,
            ..
        } = stripe
        else {
            panic!("not stripe: {stripe:?}");
        };
        assert_eq!(api_url, "https://api.stripe.com");
        assert!(payment_methods.contains("pm_card_declined=pm_card_chargeDeclined"));
    }

    #[test]
    fn it_should_refuse_to_start_in_production_with_the_default_secret() {
        assert!(matches!(
            settings(&[("SHOP_ENV", "production")]),
            Err(SettingsError::DefaultSecretInProduction)
        ));
        assert!(settings(&[("SHOP_ENV", "production"), ("JWT_SECRET", &"x".repeat(40))]).is_ok());
    }

    #[test]
    fn it_should_keep_secrets_out_of_debug_output() {
        let s = settings(&[("JWT_SECRET", "a-very-secret-value-that-is-long-enough")]).unwrap();
        assert!(!format!("{s:?}").contains("a-very-secret-value"));
    }
}

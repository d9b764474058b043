//! `spawn_app()` and the requests tests make again and again.

use std::future::pending;

use eventstore::testing::{eventually, fresh_database};
use platform::Settings;
use platform::near_cache::NearCache;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use shop::{Application, Roles};
use sqlx::PgPool;
use uuid::Uuid;

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: PgPool,
    pub settings: Settings,
    /// The app's near cache, to wait until it is subscribed.
    pub near_cache: NearCache,
    /// The media store's settings, for the CLI.
    media_env: Vec<(&'static str, String)>,
}

/// moto's S3 server, started by scripts/services.sh.
pub const S3_ENDPOINT: &str = "http://127.0.0.1:9010";

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// Starts the whole application with extra environment overrides.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    spawn_app_with_roles(overrides, Roles::all()).await
}

/// The shop with `PAYMENT_GATEWAY=stripe` against localstripe (scripts/services.sh runs it on port 8420).
pub async fn spawn_app_with_stripe() -> TestApp {
    spawn_app_with(&[
        ("PAYMENT_GATEWAY", "stripe"),
        ("STRIPE_API_URL", STRIPE_API),
        ("STRIPE_SECRET_KEY", "sk_test_shop"),
        // localstripe knows fewer test payment methods than Stripe; its declining one stands in.
        (
            "STRIPE_PAYMENT_METHODS",
            "pm_card_visa=pm_card_visa,pm_card_declined=pm_card_chargeCustomerFail",
        ),
    ])
    .await
}

/// localstripe, started by scripts/services.sh.
pub const STRIPE_API: &str = "http://127.0.0.1:8420";

/// Starts the application with its media store in a fresh bucket of the S3 test server.
pub async fn spawn_app_with_s3() -> TestApp {
    let bucket = format!("shop-test-{}", Uuid::now_v7().simple());
    // moto takes an unsigned request to make a bucket.
    let made = reqwest::Client::new()
        .put(format!("{S3_ENDPOINT}/{bucket}"))
        .send()
        .await
        .expect("the S3 test server answers (scripts/services.sh starts it)");
    assert!(
        made.status().is_success(),
        "create bucket: {}",
        made.status()
    );
    spawn_app_with(&[
        ("SHOP_MEDIA_URL", &format!("s3://{bucket}/media")),
        ("AWS_ENDPOINT_URL", S3_ENDPOINT),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ])
    .await
}

/// Starts the application playing only `roles`.
pub async fn spawn_app_with_roles(overrides: &[(&str, &str)], roles: Roles) -> TestApp {
    let (pool, database_url) = fresh_database().await;
    let unique = Uuid::now_v7().simple().to_string();
    let media = format!(
        "file://{}/shop-test-media/{unique}",
        std::env::temp_dir().display()
    );
    let prefix = format!("test:{unique}:");
    let mongo_database = format!("shop_test_{unique}");
    let overrides: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let lookup = |name: &str| {
        if let Some((_, v)) = overrides.iter().find(|(k, _)| k == name) {
            return Some(v.clone());
        }
        match name {
            "DATABASE_URL" => Some(database_url.clone()),
            "SHOP_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
            "REDIS_PREFIX" => Some(prefix.clone()),
            "MONGODB_DATABASE" => Some(mongo_database.clone()),
            "AMQP_PREFIX" => Some(prefix.clone()),
            "DATABASE_MAX_CONNECTIONS" => Some("8".to_owned()),
            "SHOP_MEDIA_URL" => Some(media.clone()),
            other => std::env::var(other).ok(),
        }
    };
    let settings = Settings::from_lookup(lookup).expect("test settings");
    let media_env = [
        "SHOP_MEDIA_URL",
        "AWS_ENDPOINT_URL",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
    ]
    .into_iter()
    .filter_map(|name| Some((name, lookup(name)?)))
    .collect();
    let app = Application::build(&settings, roles)
        .await
        .expect("build the app");
    let address = format!("http://127.0.0.1:{}", app.port());
    let near_cache = app.stores().near_cache.clone();
    tokio::spawn(app.run_until(pending()));
    TestApp {
        address,
        client: reqwest::Client::new(),
        pool,
        settings,
        near_cache,
        media_env,
    }
}

impl TestApp {
    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let url = if path.starts_with('/')
            && !path.starts_with("/api/")
            && !path.starts_with("/health")
            && !path.starts_with("/media/")
            && path != "/metrics"
        {
            format!("{}/api/v1{path}", self.address)
        } else {
            format!("{}{path}", self.address)
        };
        let builder = self.client.request(method, url);
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token)
            .json(&body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token)
            .send()
            .await
            .expect("request")
    }

    /// Runs the `shop` CLI against this app's stores. Awaited, not blocked on: the app runs on the test's
    /// single-threaded runtime and must keep working (projecting, handling messages) meanwhile.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_shop"))
            .args(args)
            .env("DATABASE_URL", self.settings.database_url.expose())
            .env("REDIS_PREFIX", &self.settings.redis_prefix)
            .env("MONGODB_DATABASE", &self.settings.mongodb_database)
            .env("AMQP_PREFIX", &self.settings.amqp_prefix)
            .envs(self.media_env.iter().map(|(k, v)| (k, v)))
            .env("RUST_LOG", "error")
            .output()
            .await
            .expect("run the shop binary")
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post(
            "/auth/register",
            None,
            json!({"email": email, "password": password, "name": "Test User"}),
        )
        .await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/auth/login",
            None,
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// A new customer; returns (user id, token).
    pub async fn customer(&self) -> (String, String) {
        let email = format!("{}@example.com", Uuid::now_v7().simple());
        let registered = self.register(&email, "correct horse battery").await;
        assert_eq!(registered.status(), StatusCode::CREATED);
        let id = body(registered).await["id"].as_str().unwrap().to_owned();
        let token = body(self.login(&email, "correct horse battery").await).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        (id, token)
    }

    /// A new administrator, made the way the CLI makes one; returns the token.
    pub async fn admin(&self) -> String {
        let email = format!("admin-{}@example.com", Uuid::now_v7().simple());
        shop::cli::create_user(
            &self.settings,
            &email,
            "admin password 1".to_owned(),
            "Admin",
            true,
        )
        .await
        .expect("create an admin");
        let answer = body(self.login(&email, "admin password 1").await).await;
        answer["access_token"]
            .as_str()
            .expect("admin token")
            .to_owned()
    }

    /// A product with `stock` units at `amount` EUR cents; returns its id.
    pub async fn product(&self, admin: &str, name: &str, amount: i64, stock: i64) -> String {
        let sku = format!("SKU-{}", &Uuid::now_v7().simple().to_string()[20..]);
        let created = self
            .post(
                "/products",
                Some(admin),
                json!({"sku": sku, "name": name, "description": "A fine thing", "category": "Things",
                       "price": {"amount": amount, "currency": "EUR"}, "stock": stock}),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        body(created).await["id"].as_str().unwrap().to_owned()
    }

    /// The events of one stream, by type.
    pub async fn event_types(&self, aggregate_type: &str, id: &str) -> Vec<String> {
        sqlx::query_scalar("SELECT event_type FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY sequence")
            .bind(aggregate_type)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .unwrap()
    }

    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&self.pool)
            .await
            .unwrap()
    }
}

pub async fn body(response: Response) -> Value {
    response.json().await.expect("a JSON body")
}

/// Asserts an RFC 9457 problem with this status and returns its body.
pub async fn problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body = body(response).await;
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"].is_string() && body["title"].is_string() && body["detail"].is_string());
    body
}

/// A shipping address checkout accepts.
pub fn address() -> Value {
    json!({"name": "Ada Lovelace", "line1": "1 Analytical Way", "city": "London", "postal_code": "N1 1AA",
           "country": "GB"})
}

/// The order once it has left `pending` (15 s at most).
pub async fn settled(app: &TestApp, token: &str, order: &str) -> Value {
    eventually(
        &format!("order {order} leaves pending"),
        std::time::Duration::from_secs(15),
        async || {
            let answer = app.get(&format!("/orders/{order}"), Some(token)).await;
            if answer.status() != StatusCode::OK {
                return None;
            }
            let order = body(answer).await;
            (order["status"] != "pending").then_some(order)
        },
    )
    .await
}

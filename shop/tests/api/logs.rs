//! The logs of a real `shop serve` process with `LOG_FORMAT=json`: one JSON object per line, every line of a
//! request or of a message carrying its request and correlation ids, and no password or token anywhere.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use eventstore::testing::{eventually, fresh_database};
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

/// A `shop serve` child process whose stdout lines arrive on a channel; killed when dropped.
struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(jwt_secret: &str) -> Self {
        let (_pool, database_url) = fresh_database().await;
        let unique = Uuid::now_v7().simple().to_string();
        let prefix = format!("test:{unique}:");
        let mut child = Command::new(env!("CARGO_BIN_EXE_shop"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("DATABASE_MAX_CONNECTIONS", "8")
            .env("SHOP_HTTP_ADDR", "127.0.0.1:0")
            .env("REDIS_PREFIX", &prefix)
            .env("AMQP_PREFIX", &prefix)
            .env("MONGODB_DATABASE", format!("shop_test_{unique}"))
            .env("JWT_SECRET", jwt_secret)
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info,saga=debug")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start shop serve");
        let stdout = child.stdout.take().expect("stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Self {
            child,
            lines,
            seen: Vec::new(),
            address: String::new(),
        };
        let serving = server.wait_for(|line| line["message"] == "serving").await;
        server.address = format!("http://127.0.0.1:{}", serving["port"]);
        server
    }

    /// The first line matching `wanted` (30 s at most); every line read is kept in `seen`.
    async fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        eventually("a log line", Duration::from_secs(30), async || {
            loop {
                match self.lines.try_recv() {
                    Ok(line) => self.seen.push(line),
                    Err(mpsc::TryRecvError::Empty) => break,
                    Err(mpsc::TryRecvError::Disconnected) => panic!(
                        "the server exited without the line; its lines:\n{}",
                        self.seen.join("\n")
                    ),
                }
            }
            self.seen.iter().map(|l| parse(l)).find(|l| wanted(l))
        })
        .await
    }
}

/// Every line must be one JSON object.
fn parse(line: &str) -> Value {
    let value: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("log line is not JSON ({e}): {line}"));
    assert!(value.is_object(), "log line is not an object: {line}");
    value
}

/// Whether the line was written inside a span whose `field` is `value`.
fn within(line: &Value, field: &str, value: &str) -> bool {
    line["spans"]
        .as_array()
        .is_some_and(|spans| spans.iter().any(|s| s[field] == value))
}

#[tokio::test]
async fn json_logs_carry_request_and_correlation_ids_and_never_a_secret() {
    let jwt_secret = format!("log-test-secret-{}", Uuid::new_v4().simple());
    let mut server = Server::start(&jwt_secret).await;
    let client = reqwest::Client::new();
    let request_id = format!("log-test-{}", Uuid::now_v7());
    let password = format!("pw-{}", Uuid::new_v4().simple());
    let email = format!("{}@example.com", Uuid::now_v7().simple());

    let registered = client
        .post(format!("{}/api/v1/auth/register", server.address))
        .header("x-request-id", &request_id)
        .json(&json!({"email": email, "password": password, "name": "Log Test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login = client
        .post(format!("{}/api/v1/auth/login", server.address))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = client
        .get(format!("{}/api/v1/me", server.address))
        .bearer_auth(&token)
        .header("x-request-id", "log-test-me")
        .header("x-correlation-id", "log-test-journey")
        .send()
        .await
        .unwrap();
    assert!(me.status().is_success() || me.status() == StatusCode::NOT_FOUND);

    // The request's own line: found by its id, with the correlation id (the request id, as nothing else
    // was given) and the response status.
    let answered = server
        .wait_for(|l| {
            within(l, "request_id", &request_id) && l["message"] == "finished processing request"
        })
        .await;
    assert!(within(&answered, "correlation_id", &request_id));
    assert_eq!(answered["status"], 201);
    // A caller's correlation id is kept.
    server
        .wait_for(|l| {
            within(l, "request_id", "log-test-me")
                && within(l, "correlation_id", "log-test-journey")
        })
        .await;
    // The welcome mail's message is handled under the ids of the registration that caused it.
    let handled = server
        .wait_for(|l| l["message"] == "message handled" && within(l, "correlation_id", &request_id))
        .await;
    assert!(within(&handled, "request_id", &request_id), "{handled}");

    for line in &server.seen {
        assert!(!line.contains(&password), "a password was logged: {line}");
        assert!(!line.contains(&token), "a token was logged: {line}");
        assert!(
            !line.contains(&jwt_secret),
            "the JWT secret was logged: {line}"
        );
    }
}

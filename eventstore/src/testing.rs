//! Test support: a fresh, migrated database per test on the real server, so tests run in parallel without
//! seeing each other's events, and [`eventually`], the tests' one way of waiting. Only compiled with the
//! `testing` feature.

use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection, PgPool};
use uuid::Uuid;

/// How often [`eventually`] asks again.
const POLL: Duration = Duration::from_millis(20);

/// Asks `probe` until it answers `Some`, every 20 ms, and returns that answer; panics naming `what` if
/// `timeout` passes first. The one way tests wait for what happens in the background: never a fixed sleep,
/// and never a value read before the condition held.
pub async fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    eventually_explained(what, timeout, async || {
        probe().await.ok_or_else(String::new)
    })
    .await
}

/// Like [`eventually`], for a probe that says why it is not done yet (`Err(why)`): a timeout's panic shows
/// its last word, such as a process's last answer and the end of its log. `why` is put into words only then.
pub async fn eventually_explained<T, E: std::fmt::Display>(
    what: &str,
    timeout: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let why = match probe().await {
            Ok(answer) => return answer,
            Err(why) => why,
        };
        if Instant::now() >= deadline {
            let why = why.to_string();
            let separator = if why.is_empty() { "" } else { "; " };
            panic!("{what}: not within {timeout:?}{separator}{why}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The server tests run against; `DATABASE_URL` names it (its database is used only to create others).
pub fn server_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A new database with every migration applied. Returns its pool and URL.
pub async fn fresh_database() -> (PgPool, String) {
    let (pool, url) = empty_database().await;
    crate::db::migrate(&pool)
        .await
        .expect("migrate the test database");
    (pool, url)
}

/// Drops a database that [`fresh_database`] or [`empty_database`] made, ending whatever is still connected
/// to it.
pub async fn drop_database(url: &str) -> Result<(), sqlx::Error> {
    let name = url.rsplit('/').next().unwrap_or_default();
    let name = name.split('?').next().unwrap_or_default();
    let mut admin = PgConnection::connect(&server_url()).await?;
    admin
        .execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str())
        .await?;
    Ok(())
}

/// A new database with nothing in it, for a program that migrates it itself (a benchmark's other build of
/// the shop, say). Returns its pool and URL.
pub async fn empty_database() -> (PgPool, String) {
    let server = server_url();
    let name = format!("shop_test_{}", Uuid::now_v7().simple());
    let mut admin = PgConnection::connect(&server)
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create a test database");
    let url = match server.rsplit_once('/') {
        Some((base, last)) if !last.contains('@') && !base.ends_with('/') => {
            let query = last
                .split_once('?')
                .map(|(_, q)| format!("?{q}"))
                .unwrap_or_default();
            format!("{base}/{name}{query}")
        }
        _ => format!("{}/{name}", server.trim_end_matches('/')),
    };
    let pool = crate::db::connect(&url, 16).expect("pool for the test database");
    (pool, url)
}

//! The pool's check of its idle connections (eventstore::db), against the real PostgreSQL: a connection idle
//! for longer than the threshold is checked before it is handed out, and one the server ended is replaced;
//! a connection idle for less is handed out unchecked, its statement fails once (a command's, as the store
//! being unavailable), and the pool does not keep it.

use std::time::Duration;

use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::{Currency, Money, ProductId, Quantity, Sku};
use eventstore::db::connect_checking_idle_over;
use eventstore::testing::{drop_database, empty_database, eventually};
use eventstore::{BusError, CommandBus, CommandMetadata};
use sqlx::PgPool;

async fn backend(pool: &PgPool) -> Result<i32, sqlx::Error> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
}

/// Ends the server's session `pid` from another connection, and waits until it is gone.
async fn end_session(admin: &PgPool, pid: i32) {
    let ended: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .fetch_one(admin)
        .await
        .expect("terminate the pool's session");
    assert!(ended, "session {pid} was not there to end");
    eventually(
        "the ended session is gone",
        Duration::from_secs(10),
        async || {
            let left: i64 =
                sqlx::query_scalar("SELECT count(*) FROM pg_stat_activity WHERE pid = $1")
                    .bind(pid)
                    .fetch_one(admin)
                    .await
                    .ok()?;
            (left == 0).then_some(())
        },
    )
    .await;
}

#[tokio::test]
async fn a_checked_connection_the_server_ended_is_replaced_before_it_is_handed_out() {
    let (admin, url) = empty_database().await;
    // Every idle connection is checked.
    let pool = connect_checking_idle_over(&url, 1, Duration::ZERO).unwrap();
    let first = backend(&pool).await.unwrap();
    end_session(&admin, first).await;

    let second = backend(&pool)
        .await
        .expect("the check found the ended connection and opened another");
    assert_ne!(first, second);
    pool.close().await;
    admin.close().await;
    drop_database(&url).await.unwrap();
}

#[tokio::test]
async fn an_unchecked_connection_the_server_ended_fails_one_statement_and_is_not_kept() {
    let (admin, url) = empty_database().await;
    // No idle connection is checked within the test's time.
    let pool = connect_checking_idle_over(&url, 1, Duration::from_secs(3600)).unwrap();
    let first = backend(&pool).await.unwrap();
    end_session(&admin, first).await;

    assert!(
        backend(&pool).await.is_err(),
        "a statement on the ended connection failed"
    );
    // The failed connection is checked as it comes back, found closed and dropped: the next statement opens
    // another (the pool holds one at most, so it waits for that).
    let second = backend(&pool)
        .await
        .expect("the pool replaced the connection that failed");
    assert_ne!(first, second);
    pool.close().await;
    admin.close().await;
    drop_database(&url).await.unwrap();
}

/// A command whose connection the server ended is a dependency's failure (the HTTP API's 503), not a bug.
#[tokio::test]
async fn a_command_on_a_connection_the_server_ended_fails_as_the_store_being_unavailable() {
    let (admin, url) = empty_database().await;
    let pool = connect_checking_idle_over(&url, 1, Duration::from_secs(3600)).unwrap();
    eventstore::db::migrate(&pool).await.unwrap();
    let bus = CommandBus::new(pool.clone());
    let cart = uuid::Uuid::now_v7().to_string();
    let meta = CommandMetadata::new_chain();
    bus.execute::<Cart>(&cart, add(1), &meta, None)
        .await
        .unwrap();
    let first = backend(&pool).await.unwrap();
    end_session(&admin, first).await;

    let failed = bus.execute::<Cart>(&cart, add(2), &meta, None).await;
    assert!(
        matches!(failed, Err(BusError::Unavailable(_))),
        "{failed:?}"
    );
    bus.execute::<Cart>(&cart, add(2), &meta, None)
        .await
        .expect("the next command runs on a new connection");
    pool.close().await;
    admin.close().await;
    drop_database(&url).await.unwrap();
}

fn add(n: u128) -> CartCommand {
    CartCommand::AddItem {
        product: ProductSnapshot {
            product_id: ProductId::new(uuid::Uuid::from_u128(n)),
            sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
            name: format!("Product {n}"),
            unit_price: Money::new(100, Currency::EUR).unwrap(),
            discontinued: false,
        },
        quantity: Quantity::new(1).unwrap(),
        at: chrono::Utc::now(),
    }
}

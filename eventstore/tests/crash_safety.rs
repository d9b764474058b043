//! What a crash may leave behind, against the real PostgreSQL (docs/adr/0012): a unit of commands commits
//! every stream and claim or none, and an Idempotency-Key's answer commits with the command's events, so a
//! retry after a crash gets that answer, or runs afresh once the lease of a request that committed nothing
//! has lapsed — never both, never a lasting 409.

use std::time::{Duration, Instant};

use chrono::Utc;
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::{Currency, Money, ProductId, Quantity, Sku};
use eventstore::testing::{eventually, fresh_database};
use eventstore::{
    BusError, ClaimKind, CommandBus, CommandMetadata, IdempotencyClaim, IdempotencyStore, Lease,
    Taken, UniqueClaims,
};
use sqlx::PgPool;
use uuid::Uuid;

fn add(n: u128) -> CartCommand {
    CartCommand::AddItem {
        product: ProductSnapshot {
            product_id: ProductId::new(Uuid::from_u128(n)),
            sku: Sku::parse(&format!("SKU-{n}")).unwrap(),
            name: format!("Product {n}"),
            unit_price: Money::new(100, Currency::EUR).unwrap(),
            discontinued: false,
        },
        quantity: Quantity::new(1).unwrap(),
        at: Utc::now(),
    }
}

async fn events_of(pool: &PgPool, id: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE aggregate_id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .unwrap()
}

fn with_lease(lease: &Lease) -> CommandMetadata {
    CommandMetadata {
        idempotency_key: Some(lease.key.clone()),
        lease: Some(lease.clone()),
        ..CommandMetadata::new_chain()
    }
}

async fn run(store: &IdempotencyStore, key: &str) -> Lease {
    match store.claim("user:1", key, b"request").await.unwrap() {
        IdempotencyClaim::Run(lease) => lease,
        other => panic!("expected to run, got {other:?}"),
    }
}

#[tokio::test]
async fn a_unit_commits_no_stream_when_another_writer_changed_one_of_them() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let (first, second) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let meta = CommandMetadata::new_chain();

    let mut unit = bus.unit(&meta);
    unit.decide::<Cart>(&first, add(1), None).await.unwrap();
    unit.decide::<Cart>(&second, add(1), None).await.unwrap();
    // Another process appends to the second stream between the decision and the commit.
    CommandBus::new(pool.clone())
        .execute::<Cart>(&second, add(2), &meta, None)
        .await
        .unwrap();

    assert!(matches!(unit.commit().await, Err(BusError::Conflict)));
    assert_eq!(
        events_of(&pool, &first).await,
        0,
        "the first stream is untouched"
    );
    assert_eq!(
        events_of(&pool, &second).await,
        1,
        "only the other writer's event"
    );
}

#[tokio::test]
async fn a_unit_writes_every_stream_in_one_statement_with_each_commands_position_and_the_latest_snapshot()
 {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let (cart, other) = (Uuid::now_v7().to_string(), Uuid::now_v7().to_string());
    let meta = CommandMetadata::new_chain();
    for n in 0..19 {
        bus.execute::<Cart>(&cart, add(n), &meta, None)
            .await
            .unwrap();
    }

    // Twenty-one commands on the cart (its snapshots are due at 20 and 40 events) and one on another cart.
    let mut unit = bus.unit(&meta);
    for n in 19..40 {
        unit.decide::<Cart>(&cart, add(n), None).await.unwrap();
    }
    unit.decide::<Cart>(&other, add(1), None).await.unwrap();
    let executed = unit.commit().await.unwrap();

    let versions: Vec<u64> = executed.iter().map(|e| e.version).collect();
    assert_eq!(versions[..21], (20..=40).collect::<Vec<u64>>()[..]);
    assert_eq!(versions[21], 1);
    let positions: Vec<_> = executed.iter().map(|e| e.position.unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in the order decided: {positions:?}"
    );
    for (executed, (id, sequence)) in executed.iter().zip(
        (20..=40)
            .map(|s| (cart.as_str(), s))
            .chain([(other.as_str(), 1)]),
    ) {
        let position: i64 = sqlx::query_scalar(
            "SELECT position FROM events WHERE aggregate_id = $1 AND sequence = $2",
        )
        .bind(id)
        .bind(sequence)
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(executed.position.unwrap().position, position);
    }
    let snapshot: i64 = sqlx::query_scalar(
        "SELECT last_sequence FROM snapshots WHERE aggregate_type = 'cart' AND aggregate_id = $1",
    )
    .bind(&cart)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(snapshot, 40, "the latest of the unit's two snapshots");

    // A bus that never saw the cart loads it, from that snapshot, as the unit left it.
    let (loaded, version) = CommandBus::new(pool.clone())
        .load::<Cart>(&cart)
        .await
        .unwrap();
    assert_eq!(version, 40);
    assert_eq!(loaded.lines().len(), 40);
    assert_eq!(events_of(&pool, &cart).await, 40);
    assert_eq!(events_of(&pool, &other).await, 1);
}

#[tokio::test]
async fn a_unit_whose_claimed_value_is_anothers_writes_nothing_and_one_whose_value_is_free_writes_both()
 {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let claims = UniqueClaims::new(pool.clone());
    claims
        .claim(ClaimKind::Sku, "TAKEN-1", "someone-else")
        .await
        .unwrap();
    let owner = Uuid::now_v7().to_string();
    let meta = CommandMetadata::new_chain();

    let mut unit = bus.unit(&meta);
    unit.claim(ClaimKind::Sku, "TAKEN-1", &owner);
    unit.decide::<Cart>(&owner, add(1), None).await.unwrap();
    assert!(matches!(
        unit.commit().await,
        Err(BusError::Rejected(Taken(ClaimKind::Sku)))
    ));
    assert_eq!(events_of(&pool, &owner).await, 0);

    let mut unit = bus.unit(&meta);
    unit.claim(ClaimKind::Sku, "FREE-1", &owner);
    unit.decide::<Cart>(&owner, add(1), None).await.unwrap();
    let executed = unit.commit().await.unwrap();
    assert_eq!(executed[0].version, 1);
    assert!(executed[0].position.is_some());
    assert_eq!(events_of(&pool, &owner).await, 1);
    assert_eq!(
        claims.owner(ClaimKind::Sku, "FREE-1").await.unwrap(),
        Some(owner)
    );
}

#[tokio::test]
async fn a_request_that_committed_and_then_crashed_answers_its_retry_from_what_it_committed() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let store = IdempotencyStore::new(pool.clone());
    let cart = Uuid::now_v7().to_string();
    let lease = run(&store, "add-1").await;

    let meta = with_lease(&lease).answering(202, "the-answer");
    let executed = bus
        .execute::<Cart>(&cart, add(1), &meta, None)
        .await
        .unwrap();
    // The process dies here, before the middleware stores the whole response.

    match store.claim("user:1", "add-1", b"request").await.unwrap() {
        IdempotencyClaim::Committed(answer) => {
            assert_eq!(answer.status, 202);
            assert_eq!(answer.id, "the-answer");
            assert_eq!(answer.version, executed.version);
            assert_eq!(answer.position, executed.position.map(|p| p.to_string()));
        }
        other => panic!("expected the committed answer, got {other:?}"),
    }
    assert_eq!(events_of(&pool, &cart).await, 1, "nothing ran twice");
}

#[tokio::test]
async fn a_request_that_crashed_before_committing_runs_again_once_its_lease_lapses_and_can_never_commit_after()
 {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let lease_time = Duration::from_millis(300);
    let store = IdempotencyStore::new(pool.clone()).with_lease(lease_time);
    let cart = Uuid::now_v7().to_string();
    let first = run(&store, "add-2").await;
    // The first request dies (or stalls) before it commits anything.

    let second = eventually(
        "the lease lapsing",
        Duration::from_secs(5),
        async || match store.claim("user:1", "add-2", b"request").await.unwrap() {
            IdempotencyClaim::Run(lease) => Some(lease),
            IdempotencyClaim::InFlight { retry_after } => {
                assert!(retry_after <= lease_time, "{retry_after:?}");
                None
            }
            other => panic!("expected in flight, then a run, got {other:?}"),
        },
    )
    .await;
    assert_ne!(second.token, first.token);

    // The first request, stalled rather than dead, tries to commit after the key was taken over.
    let late = bus
        .execute::<Cart>(&cart, add(1), &with_lease(&first), None)
        .await;
    assert!(matches!(late, Err(BusError::LeaseLost)), "{late:?}");
    assert_eq!(events_of(&pool, &cart).await, 0);

    bus.execute::<Cart>(&cart, add(1), &with_lease(&second), None)
        .await
        .unwrap();
    assert_eq!(events_of(&pool, &cart).await, 1);
    assert!(matches!(
        store.claim("user:1", "add-2", b"request").await.unwrap(),
        IdempotencyClaim::Committed(_)
    ));
}

#[tokio::test]
async fn a_request_that_renews_its_lease_keeps_its_key_however_long_it_runs() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let lease_time = Duration::from_millis(300);
    let store = IdempotencyStore::new(pool.clone()).with_lease(lease_time);
    let cart = Uuid::now_v7().to_string();
    let lease = run(&store, "slow-1").await;

    // Alive for three leases, renewing as the middleware does; retries meanwhile find it in flight.
    let running = Instant::now();
    while running.elapsed() < lease_time * 3 {
        assert!(store.renew(&lease).await.unwrap());
        assert!(matches!(
            store.claim("user:1", "slow-1", b"request").await.unwrap(),
            IdempotencyClaim::InFlight { .. }
        ));
        tokio::time::sleep(lease_time / 3).await;
    }
    bus.execute::<Cart>(&cart, add(1), &with_lease(&lease), None)
        .await
        .unwrap();
    assert!(
        !store.renew(&lease).await.unwrap(),
        "nothing to renew once committed"
    );
}

#[tokio::test]
async fn a_request_that_commits_twice_under_one_key_is_refused_and_its_first_commit_stands() {
    let (pool, _) = fresh_database().await;
    let bus = CommandBus::new(pool.clone());
    let store = IdempotencyStore::new(pool.clone());
    let cart = Uuid::now_v7().to_string();
    let lease = run(&store, "twice-1").await;
    bus.execute::<Cart>(&cart, add(1), &with_lease(&lease), None)
        .await
        .unwrap();
    let second = bus
        .execute::<Cart>(&cart, add(2), &with_lease(&lease), None)
        .await;
    assert!(matches!(second, Err(BusError::Internal(_))), "{second:?}");
    assert_eq!(events_of(&pool, &cart).await, 1);
}

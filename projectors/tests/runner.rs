//! Projectors against the real PostgreSQL, MongoDB-compatible server and Redis: restarts, redelivery,
//! replay and verification all end with the same documents.

use std::collections::HashMap;

use chrono::Utc;
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::product::{Product, ProductCommand};
use domain::{Currency, Money, OrderId, ProductId, Quantity, Sku};
use eventstore::testing::{eventually, fresh_database};
use eventstore::{CommandBus, CommandMetadata, Feed, Position};
use projectors::View;
use projectors::replay;
use projectors::runner::{LagBoard, Runner, Step, apply_batch, apply_events};
use projectors::store::ReadStores;
use projectors::view::Versioned;
use projectors::views::carts::CartView;
use projectors::views::catalog::CatalogProduct;
use projectors::views::orders::OrderView;
use uuid::Uuid;

fn eur(amount: i64) -> Money {
    Money::new(amount, Currency::parse("EUR").unwrap()).unwrap()
}

async fn stores() -> ReadStores {
    let unique = Uuid::now_v7().simple().to_string();
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mongo_url = std::env::var("MONGODB_URL")
        .unwrap_or_else(|_| "mongodb://127.0.0.1:27017/?directConnection=true".to_owned());
    let redis = redis::aio::ConnectionManager::new(redis::Client::open(redis_url).unwrap())
        .await
        .unwrap();
    ReadStores::connect(
        &mongo_url,
        &format!("shop_test_{unique}"),
        redis,
        &format!("test:{unique}:"),
        &platform::near_cache::channel(&format!("test:{unique}:"), 0),
    )
    .await
    .unwrap()
}

/// Products with stock changes, and carts that fill, change and check out: a few dozen events.
async fn write_history(bus: &CommandBus) {
    let meta = CommandMetadata::new_chain();
    let mut products = Vec::new();
    for n in 0..6i64 {
        let id = ProductId::new(Uuid::now_v7());
        let create = ProductCommand::Create {
            product_id: id,
            sku: Sku::parse(&format!("P-{n}")).unwrap(),
            name: format!("Product {n}"),
            description: "Made for tests".to_owned(),
            category: if n % 2 == 0 { "Even" } else { "Odd" }.to_owned(),
            price: eur(100 + n),
            stock: 10,
            at: Utc::now(),
        };
        bus.execute::<Product>(&id.to_string(), create, &meta, None)
            .await
            .unwrap();
        let adjust = ProductCommand::AdjustStock {
            delta: n + 1,
            at: Utc::now(),
        };
        bus.execute::<Product>(&id.to_string(), adjust, &meta, None)
            .await
            .unwrap();
        products.push((id, n));
    }
    for cart in 0..4usize {
        let cart_id = Uuid::now_v7().to_string();
        for (id, n) in products.iter().take(3 + cart) {
            let add = CartCommand::AddItem {
                product: ProductSnapshot {
                    product_id: *id,
                    sku: Sku::parse(&format!("P-{n}")).unwrap(),
                    name: format!("Product {n}"),
                    unit_price: eur(100 + n),
                    discontinued: false,
                },
                quantity: Quantity::new(1 + *n).unwrap(),
                at: Utc::now(),
            };
            bus.execute::<Cart>(&cart_id, add, &meta, None)
                .await
                .unwrap();
        }
        if cart % 2 == 0 {
            let checkout = CartCommand::CheckOut {
                order_id: OrderId::new(Uuid::now_v7()),
                at: Utc::now(),
            };
            bus.execute::<Cart>(&cart_id, checkout, &meta, None)
                .await
                .unwrap();
        }
    }
}

/// Runs the projector until it has applied the last event written. Other tests' open transactions on the
/// server may hold the feed back for a moment, so "caught up" alone is not enough.
async fn drain<V: View>(runner: &mut Runner<V>, generation: u64) {
    eventually(
        "the projector applies the last event written",
        std::time::Duration::from_secs(20),
        async || {
            while let Step::Processed { .. } = runner.step_generation(generation).await.unwrap() {}
            let (stores, pool) = (runner.stores(), runner.pool());
            let head: (String,) = sqlx::query_as(
                "SELECT transaction_id::text || '.' || position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1",
            )
            .fetch_one(pool)
            .await
            .unwrap();
            let head: Position = head.0.parse().unwrap();
            (stores.checkpoint::<V>(generation).await.unwrap() >= Some(head)).then_some(())
        },
    )
    .await;
}

async fn documents<V: View>(stores: &ReadStores, generation: u64) -> HashMap<String, Versioned<V>> {
    stores.all::<V>(generation).await.unwrap()
}

async fn killed_mid_batch_ends_like_never_stopped<V: View + std::fmt::Debug>() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;

    let mut steady =
        Runner::<V>::new(pool.clone(), stores.clone(), LagBoard::default()).with_batch(7);
    drain(&mut steady, 0).await;
    let expected = documents::<V>(&stores, 0).await;
    assert!(!expected.is_empty());

    // Generation 1 crashes in its first batch: part of the batch's documents are written, its checkpoint is not.
    let batch = Feed::new(pool.clone())
        .read_after(Position::START, 40)
        .await
        .unwrap();
    apply_batch::<V>(&stores, 1, &batch[..batch.len() / 2])
        .await
        .unwrap();
    stores.save::<V>(1, &[], Position::START).await.unwrap();

    let mut restarted =
        Runner::<V>::new(pool.clone(), stores.clone(), LagBoard::default()).with_batch(40);
    drain(&mut restarted, 1).await;
    assert_eq!(documents::<V>(&stores, 1).await, expected);
    assert_eq!(
        stores.checkpoint::<V>(1).await.unwrap(),
        stores.checkpoint::<V>(0).await.unwrap()
    );
}

#[tokio::test]
async fn a_mongo_projector_killed_in_the_middle_of_a_batch_ends_with_the_same_documents() {
    killed_mid_batch_ends_like_never_stopped::<CatalogProduct>().await;
}

#[tokio::test]
async fn a_redis_projector_killed_in_the_middle_of_a_batch_ends_with_the_same_documents() {
    killed_mid_batch_ends_like_never_stopped::<CartView>().await;
}

#[tokio::test]
async fn events_delivered_again_change_nothing() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let mut runner =
        Runner::<CatalogProduct>::new(pool.clone(), stores.clone(), LagBoard::default());
    drain(&mut runner, 0).await;
    let once = documents::<CatalogProduct>(&stores, 0).await;
    let all = Feed::new(pool.clone())
        .read_after(Position::START, 1000)
        .await
        .unwrap();
    apply_batch::<CatalogProduct>(&stores, 0, &all)
        .await
        .unwrap();
    assert_eq!(documents::<CatalogProduct>(&stores, 0).await, once);
}

/// Under load a MongoDB view writes the documents of every batch at once and its checkpoint only when due (at
/// most once a second); once caught up, the checkpoint too.
#[tokio::test]
async fn a_mongo_view_writes_every_batch_s_documents_and_its_checkpoint_only_when_due() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let mut runner =
        Runner::<CatalogProduct>::new(pool.clone(), stores.clone(), LagBoard::default())
            .with_batch(4)
            .with_checkpoint_every(std::time::Duration::from_secs(3600));
    let Step::Processed { last: first, .. } = runner.step_generation(0).await.unwrap() else {
        panic!("the first batch was applied");
    };
    assert_eq!(
        stores.checkpoint::<CatalogProduct>(0).await.unwrap(),
        Some(first),
        "the first batch writes its checkpoint"
    );
    let Step::Processed { last: second, .. } = runner.step_generation(0).await.unwrap() else {
        panic!("the second batch was applied");
    };
    let applied = Feed::new(pool.clone())
        .read_after(Position::START, 8)
        .await
        .unwrap();
    assert_eq!(applied.last().map(|event| event.position), Some(second));
    let mut expected = HashMap::new();
    apply_events::<CatalogProduct>(&mut expected, &applied);
    assert_eq!(expected.len(), 4, "two products per batch");
    assert_eq!(
        documents::<CatalogProduct>(&stores, 0).await,
        expected,
        "the second batch's documents are written"
    );
    assert_eq!(
        stores.checkpoint::<CatalogProduct>(0).await.unwrap(),
        Some(first),
        "the second batch's checkpoint is not written yet"
    );
    // Caught up: the checkpoint is written (`drain` waits for it to reach the head).
    drain(&mut runner, 0).await;
}

async fn replay_matches_live<V: View + std::fmt::Debug>() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let mut live = Runner::<V>::new(pool.clone(), stores.clone(), LagBoard::default());
    drain(&mut live, 0).await;
    let live_documents = documents::<V>(&stores, 0).await;

    let mut reports = 0;
    let events = replay::replay::<V>(&pool, &stores, |_| reports += 1)
        .await
        .unwrap();
    assert!(events > 0 && reports > 0);
    assert_eq!(stores.active_generation::<V>().await.unwrap(), 1);
    assert_eq!(documents::<V>(&stores, 1).await, live_documents);
    assert!(
        documents::<V>(&stores, 0).await.is_empty(),
        "the old generation is dropped after the switch"
    );
    assert!(
        replay::verify::<V>(&pool, &stores, |_| {})
            .await
            .unwrap()
            .is_empty()
    );
}

/// A build that writes out between batches (reloading what it wrote when later events need it) ends with the
/// same documents as the live projection.
async fn build_writing_in_between_matches_live<V: View + std::fmt::Debug>() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let mut live = Runner::<V>::new(pool.clone(), stores.clone(), LagBoard::default());
    drain(&mut live, 0).await;
    replay::build_holding::<V>(&pool, &stores, 7, 1, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        documents::<V>(&stores, 7).await,
        documents::<V>(&stores, 0).await
    );
    assert_eq!(
        stores.checkpoint::<V>(7).await.unwrap(),
        stores.checkpoint::<V>(0).await.unwrap()
    );
}

#[tokio::test]
async fn a_catalog_build_writing_in_between_yields_the_live_documents() {
    build_writing_in_between_matches_live::<CatalogProduct>().await;
}

#[tokio::test]
async fn a_cart_build_writing_in_between_yields_the_live_documents() {
    build_writing_in_between_matches_live::<CartView>().await;
}

#[tokio::test]
async fn replaying_the_catalog_yields_the_live_documents() {
    replay_matches_live::<CatalogProduct>().await;
}

#[tokio::test]
async fn replaying_the_carts_yields_the_live_documents() {
    replay_matches_live::<CartView>().await;
}

#[tokio::test]
async fn verify_reports_a_live_document_that_differs_from_a_rebuild() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let mut live = Runner::<CatalogProduct>::new(pool.clone(), stores.clone(), LagBoard::default());
    drain(&mut live, 0).await;
    let mut docs = documents::<CatalogProduct>(&stores, 0).await;
    let (key, mut doc) = docs.drain().next().unwrap();
    doc.view.name = "Tampered".to_owned();
    let checkpoint = stores
        .checkpoint::<CatalogProduct>(0)
        .await
        .unwrap()
        .unwrap();
    stores
        .save::<CatalogProduct>(0, &[(key.clone(), doc)], checkpoint)
        .await
        .unwrap();
    let differences = replay::verify::<CatalogProduct>(&pool, &stores, |_| {})
        .await
        .unwrap();
    assert_eq!(differences.len(), 1);
    assert_eq!(differences[0].key, key);
}

/// The `(field, direction)` lists of a collection's indexes.
async fn indexes(stores: &ReadStores, collection: &str) -> Vec<Vec<(String, i64)>> {
    use futures::TryStreamExt;
    let models: Vec<mongodb::IndexModel> = stores
        .mongo
        .collection::<mongodb::bson::Document>(collection)
        .list_indexes()
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    models
        .into_iter()
        .map(|model| {
            model
                .keys
                .iter()
                .map(|(field, direction)| {
                    let direction = direction
                        .as_i32()
                        .map(i64::from)
                        .or_else(|| direction.as_i64())
                        .or_else(|| direction.as_f64().map(|d| d as i64))
                        .unwrap_or(0);
                    (field.clone(), direction)
                })
                .collect()
        })
        .collect()
}

fn declared<V: View>() -> Vec<Vec<(String, i64)>> {
    V::INDEXES
        .iter()
        .map(|fields| {
            fields
                .iter()
                .map(|(field, direction)| ((*field).to_owned(), i64::from(*direction)))
                .collect()
        })
        .collect()
}

async fn assert_indexed<V: View>(stores: &ReadStores, generation: u64) {
    let collection = projectors::store::collection_name(V::NAME, generation);
    let found = indexes(stores, &collection).await;
    for index in declared::<V>() {
        assert!(
            found.contains(&index),
            "{collection} lacks {index:?}; has {found:?}"
        );
    }
}

async fn indexed_live_and_after_replay<V: View>() {
    assert!(!V::INDEXES.is_empty());
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let mut live = Runner::<V>::new(pool.clone(), stores.clone(), LagBoard::default());
    live.step().await.unwrap();
    assert_indexed::<V>(&stores, 0).await;
    replay::replay::<V>(&pool, &stores, |_| {}).await.unwrap();
    assert_indexed::<V>(&stores, 1).await;
}

#[tokio::test]
async fn the_catalog_is_indexed_for_its_listings_live_and_after_a_replay() {
    indexed_live_and_after_replay::<CatalogProduct>().await;
}

#[tokio::test]
async fn orders_and_notifications_are_indexed_for_their_listings() {
    indexed_live_and_after_replay::<OrderView>().await;
    indexed_live_and_after_replay::<projectors::views::notifications::NotificationView>().await;
}

/// Reads that wait for a position (`X-Min-Position`) on a MongoDB view stop when they hear its projector
/// announce the checkpoint, instead of polling MongoDB for it.
#[tokio::test]
async fn a_mongo_projector_announces_each_checkpoint_it_reaches() {
    let (pool, _) = fresh_database().await;
    write_history(&CommandBus::new(pool.clone())).await;
    let stores = stores().await;
    let cache = platform::near_cache::NearCache::new(stores.announcements.clone(), 100);
    let (_stop, stopping) = tokio::sync::watch::channel(false);
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    tokio::spawn(
        cache
            .clone()
            .run(redis::Client::open(redis_url).unwrap(), stopping),
    );
    eventually(
        "the near cache subscribes",
        std::time::Duration::from_secs(10),
        async || cache.is_live().then_some(()),
    )
    .await;

    let mut live = Runner::<OrderView>::new(pool.clone(), stores.clone(), LagBoard::default());
    drain(&mut live, 0).await;
    let checkpoint = stores.checkpoint::<OrderView>(0).await.unwrap().unwrap();
    let scope = stores.scope::<OrderView>(0);
    let expected =
        platform::near_cache::Stamp::new(checkpoint.transaction_id, checkpoint.position as u64);
    eventually(
        &format!("the near cache hears the checkpoint {checkpoint}"),
        std::time::Duration::from_secs(10),
        async || (cache.heard(&scope) == Some(expected)).then_some(()),
    )
    .await;
}

/// Counting orders by discount code reports an order document it cannot count (no status) instead of leaving
/// it out of the counts.
#[tokio::test]
async fn orders_by_discount_code_report_a_document_they_cannot_count() {
    use mongodb::bson::{Document, doc};
    use projectors::store::StoreError;
    use projectors::store::query::ReadModels;

    let stores = stores().await;
    let orders = stores
        .mongo
        .collection::<Document>(&projectors::store::collection_name(OrderView::NAME, 0));
    let models = ReadModels::new(
        stores.clone(),
        platform::near_cache::NearCache::new(stores.announcements.clone(), 10),
    );
    let codes = ["SPRING".to_owned()];
    orders
        .insert_many([
            doc! {"_id": "a", "discount": {"code": "SPRING"}, "status": "confirmed"},
            doc! {"_id": "b", "discount": {"code": "SPRING"}, "status": "pending"},
        ])
        .await
        .unwrap();
    let counted = models.orders_with_codes(&codes).await.unwrap();
    assert_eq!(
        (counted["SPRING"].redeemed, counted["SPRING"].pending),
        (1, 1)
    );

    orders
        .insert_one(doc! {"_id": "c", "discount": {"code": "SPRING"}})
        .await
        .unwrap();
    let counted = models.orders_with_codes(&codes).await;
    assert!(
        matches!(counted, Err(StoreError::Corrupt(_))),
        "{counted:?}"
    );
}

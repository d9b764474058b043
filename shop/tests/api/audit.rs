use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

use eventstore::testing::eventually;

use crate::helpers::{body, problem, spawn_app};

#[tokio::test]
async fn the_feed_lists_events_in_store_order_with_metadata_and_pages_with_next() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Kettle", 3000, 4).await;
    let page = body(app.get("/admin/events?limit=1", Some(&admin)).await).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["event_type"], "UserRegistered");
    assert_eq!(items[0]["payload"]["password_hash"], "<redacted>");
    let next = page["next"].as_str().unwrap();

    // The feed shows a commit once no older transaction is still running (docs/adr/0011, 0017): the product's
    // creation is there at once unless one is, so the read is repeated until it is.
    let rest = eventually(
        "the product's creation in the feed",
        Duration::from_secs(10),
        async || {
            let rest = body(
                app.get(
                    &format!("/admin/events?after={next}&limit=1000"),
                    Some(&admin),
                )
                .await,
            )
            .await;
            rest["items"]
                .as_array()?
                .iter()
                .any(|e| e["event_type"] == "ProductCreated")
                .then_some(rest)
        },
    )
    .await;
    let rest_items = rest["items"].as_array().unwrap();
    let positions: Vec<eventstore::Position> = rest_items
        .iter()
        .map(|e| e["position"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        !positions.is_empty() && positions.is_sorted_by(|a, b| a < b),
        "store order: {positions:?}"
    );
    assert!(next.parse::<eventstore::Position>().unwrap() < positions[0]);
    // The admin's welcome mail (`NotificationSent`) may be written between the registration and the product.
    let created = rest_items
        .iter()
        .find(|e| e["event_type"] == "ProductCreated")
        .expect("the product's creation follows");
    assert_eq!(created["aggregate_id"], product.as_str());
    assert!(created["metadata"]["user_id"].is_string());
    assert!(created["metadata"]["correlation_id"].is_string());
    assert!(created["metadata"]["request_id"].is_string());
    assert_eq!(created["hash"].as_str().unwrap().len(), 64);

    let filtered = body(
        app.get(
            "/admin/events?aggregate_type=product&unknown=1",
            Some(&admin),
        )
        .await,
    )
    .await;
    assert!(
        filtered["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["aggregate_type"] == "product")
    );
    problem(
        app.get("/admin/events?limit=0", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    problem(
        app.get("/admin/events?after=garbage", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    let stream = body(
        app.get(&format!("/admin/streams/product/{product}"), Some(&admin))
            .await,
    )
    .await;
    assert_eq!(stream["items"][0]["sequence"], 1);
    problem(
        app.get("/admin/streams/product/nothing", Some(&admin))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn customers_cannot_read_the_audit_log() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    problem(
        app.get("/admin/events", Some(&token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.get("/admin/audit/verify", Some(&token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn verify_finds_a_changed_row_and_a_deletion_over_http_and_in_the_cli() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Kettle", 3000, 4).await;
    for delta in [1, 2, 3] {
        app.post(
            &format!("/products/{product}/stock"),
            Some(&admin),
            serde_json::json!({"delta": delta}),
        )
        .await;
    }
    let intact: Value = body(app.get("/admin/audit/verify", Some(&admin)).await).await;
    assert_eq!(intact["ok"], true);
    assert!(app.cli(&["audit", "verify"]).await.status.success());

    // Somebody with database access gives the product more stock than it ever had.
    let changed: i64 = sqlx::query_scalar(
        "UPDATE events SET payload = regexp_replace(payload::text, '\"delta\": ?2,', '\"delta\":200,')::json \
         WHERE aggregate_id = $1 AND sequence = 3 RETURNING position",
    )
    .bind(&product)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let report: Value = body(app.get("/admin/audit/verify", Some(&admin)).await).await;
    assert_eq!(report["ok"], false);
    assert_eq!(report["broken"][0]["position"], changed);
    let cli = app.cli(&["audit", "verify"]).await;
    assert!(!cli.status.success());
    let stderr = String::from_utf8_lossy(&cli.stderr);
    assert!(stderr.contains(&format!("position {changed}")), "{stderr}");

    // And then deletes the event after it, the stream's last, once the feed was sealed up to its head: by
    // this test or by the app's own background sealer, whichever comes first.
    let head = eventstore::Feed::new(app.pool.clone())
        .head()
        .await
        .unwrap()
        .expect("the feed has events");
    eventually(
        "every event sealed",
        std::time::Duration::from_secs(10),
        async || {
            eventstore::audit::seal(&app.pool).await.unwrap();
            let sealed = eventstore::audit::sealed_through(&app.pool).await.unwrap();
            (sealed >= Some(head)).then_some(())
        },
    )
    .await;
    sqlx::query("DELETE FROM events WHERE aggregate_id = $1 AND sequence = 4")
        .bind(&product)
        .execute(&app.pool)
        .await
        .unwrap();
    let report: Value = body(app.get("/admin/audit/verify", Some(&admin)).await).await;
    let reasons: Vec<&str> = report["broken"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["reason"].as_str())
        .collect();
    assert!(reasons.iter().any(|r| r.contains("deleted")), "{reasons:?}");
}

#[tokio::test]
async fn the_cli_shows_a_stream_and_tails_the_store() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Toaster", 2500, 4).await;
    let shown = app.cli(&["events", "show", "product", &product]).await;
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        text.contains("ProductCreated") && text.contains("name=Toaster"),
        "{text}"
    );
    let tail = app.cli(&["events", "tail", "-n", "5"]).await;
    let text = String::from_utf8_lossy(&tail.stdout);
    assert!(
        text.contains("UserRegistered") && text.contains("ProductCreated"),
        "{text}"
    );
    assert!(!text.contains("argon2"), "secrets stay out of the terminal");
}

//! The CLI's seed and replay against the real services.

use reqwest::Method;
use serde_json::Value;

use eventstore::testing::eventually;

use crate::helpers::{body, spawn_app};

#[tokio::test]
async fn seed_fills_the_store_then_replay_rebuilds_and_verify_finds_nothing_to_report() {
    let app = spawn_app().await;
    let seeded = app
        .cli(&[
            "seed",
            "--products",
            "12",
            "--customers",
            "3",
            "--orders",
            "6",
        ])
        .await;
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let again = app.cli(&["seed", "--if-empty"]).await;
    assert!(String::from_utf8_lossy(&again.stdout).contains("not seeding"));

    let head = sqlx::query_scalar::<_, String>(
        "SELECT transaction_id::text || '.' || position FROM events ORDER BY transaction_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let listed = app
        .request(Method::GET, "/products?limit=100", None)
        .header("x-min-position", &head)
        .send()
        .await
        .unwrap();
    let listed: Value = body(listed).await;
    assert_eq!(listed["total"], 12);
    // Every seeded product shows its kind's generated picture, served by the shop.
    let items = listed["items"].as_array().unwrap();
    assert!(
        items
            .iter()
            .all(|p| p["images"].as_array().unwrap().len() == 1),
        "{listed}"
    );
    let picture = items[0]["images"][0]["url"].as_str().unwrap();
    let served = app.get(picture, None).await;
    assert_eq!(served.status(), reqwest::StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");

    let replayed = app.cli(&["replay", "--all"]).await;
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let stdout = String::from_utf8_lossy(&replayed.stdout);
    assert!(
        stdout.contains("users: rebuilt") && stdout.contains("carts: rebuilt"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&replayed.stderr);
    assert!(
        stderr.contains("ev/s") && stderr.contains("left"),
        "a progress bar: {stderr}"
    );

    // Availability moves as the saga handles the seeded orders; the catalog itself is the same.
    let names = |page: &Value| -> Vec<(String, String)> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["id"].to_string(), p["name"].to_string()))
            .collect()
    };
    // Readers switch to the rebuilt copy within a second (they cache the pointer) and see the same catalog.
    eventually(
        "readers see the rebuilt catalog",
        std::time::Duration::from_secs(5),
        async || {
            let after: Value = body(app.get("/products?limit=100", None).await).await;
            (names(&after) == names(&listed)).then_some(())
        },
    )
    .await;

    let verified = app.cli(&["replay", "--all", "--verify"]).await;
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let unknown = app.cli(&["replay", "--projector", "nope"]).await;
    assert!(!unknown.status.success());
}

//! Discount codes end to end: an administrator's codes, a customer's cart with one, the order placed with
//! it, its redemption held at checkout, counted on confirmation and given back on cancellation, and a code's
//! last redemptions raced for.

use std::time::Duration;

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use eventstore::testing::eventually;

use crate::helpers::{
    TestApp, address, body, problem, settled, spawn_app, spawn_app_with, spawn_app_with_stripe,
};

/// A code with `terms` (merged over a 10 % code); returns its id.
async fn promotion(app: &TestApp, admin: &str, code: &str, terms: Value) -> String {
    let mut body_json = json!({"code": code, "percent_off": 10});
    if let (Some(base), Some(extra)) = (body_json.as_object_mut(), terms.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
        if extra.contains_key("amount_off") {
            base.remove("percent_off");
        }
    }
    let created = app.post("/promotions", Some(admin), body_json).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    body(created).await["id"].as_str().unwrap().to_owned()
}

async fn add(app: &TestApp, token: &str, product: &str, quantity: i64) {
    let added = app
        .post(
            "/cart/items",
            Some(token),
            json!({"product_id": product, "quantity": quantity}),
        )
        .await;
    assert_eq!(added.status(), StatusCode::ACCEPTED);
}

async fn apply(app: &TestApp, token: &str, code: &str) -> reqwest::Response {
    app.post("/cart/discount", Some(token), json!({"code": code}))
        .await
}

async fn check_out(app: &TestApp, token: &str) -> reqwest::Response {
    app.post(
        "/cart/checkout",
        Some(token),
        json!({"shipping_address": address(), "payment_method": "pm_card_visa"}),
    )
    .await
}

/// The cart as of the caller's last write (`position`).
async fn cart_at(app: &TestApp, token: &str, position: &str) -> Value {
    let answer = app
        .request(reqwest::Method::GET, "/cart", Some(token))
        .header("x-min-position", position)
        .send()
        .await
        .unwrap();
    body(answer).await
}

/// The code as the administrators' listing shows it, once `ready` holds (15 s at most).
async fn listed(app: &TestApp, admin: &str, id: &str, ready: impl Fn(&Value) -> bool) -> Value {
    eventually(
        &format!("promotion {id} listed as expected"),
        Duration::from_secs(15),
        async || {
            let page = body(app.get("/promotions?limit=100", Some(admin)).await).await;
            page["items"]
                .as_array()?
                .iter()
                .find(|p| p["id"] == id)
                .filter(|p| ready(p))
                .cloned()
        },
    )
    .await
}

#[tokio::test]
async fn an_administrator_creates_lists_pauses_resumes_and_ends_a_code_and_bad_terms_are_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, customer) = app.customer().await;

    let id = promotion(
        &app,
        &admin,
        "spring-10",
        json!({"max_redemptions": 5, "categories": ["Things"], "min_subtotal": {"amount": 1000, "currency": "EUR"}}),
    )
    .await;
    let code = listed(&app, &admin, &id, |p| p["status"] == "active").await;
    assert_eq!(code["code"], "SPRING-10");
    assert_eq!(code["percent_off"], 10);
    assert_eq!(code["max_redemptions"], 5);
    assert_eq!(code["categories"], json!(["Things"]));
    assert_eq!(
        (code["redeemed"].as_i64(), code["held"].as_i64()),
        (Some(0), Some(0))
    );

    // The same code again, in any case, is another promotion's.
    let again = app
        .post(
            "/promotions",
            Some(&admin),
            json!({"code": "Spring-10", "amount_off": {"amount": 500, "currency": "EUR"}}),
        )
        .await;
    assert_eq!(
        problem(again, StatusCode::CONFLICT).await["type"],
        "/problems/discount_code_taken"
    );
    // Bad terms: every field's problem at once, and nothing written.
    let events = app.event_count().await;
    let bad = app
        .post(
            "/promotions",
            Some(&admin),
            json!({"code": "x", "percent_off": 120, "amount_off": {"amount": 5, "currency": "EUR"}, "max_redemptions": 0}),
        )
        .await;
    let bad = problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in ["code", "percent_off", "max_redemptions"] {
        assert!(bad["errors"][field].is_string(), "{field}: {bad}");
    }
    let window = app
        .post(
            "/promotions",
            Some(&admin),
            json!({"code": "BACKWARDS", "percent_off": 5, "valid_from": "2030-01-02T00:00:00Z", "valid_until": "2030-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(
        problem(window, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/invalid_validity"
    );
    assert_eq!(app.event_count().await, events);
    // Customers can neither create nor list codes.
    let denied = app
        .post(
            "/promotions",
            Some(&customer),
            json!({"code": "MINE", "percent_off": 50}),
        )
        .await;
    problem(denied, StatusCode::FORBIDDEN).await;
    problem(
        app.get("/promotions", Some(&customer)).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    for (action, status) in [("pause", "paused"), ("resume", "active"), ("end", "ended")] {
        let changed = app
            .post(
                &format!("/promotions/{id}/{action}"),
                Some(&admin),
                json!({}),
            )
            .await;
        assert_eq!(changed.status(), StatusCode::ACCEPTED, "{action}");
        listed(&app, &admin, &id, |p| p["status"] == status).await;
    }
    let resumed = app
        .post(&format!("/promotions/{id}/resume"), Some(&admin), json!({}))
        .await;
    assert_eq!(
        problem(resumed, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/discount_code_ended"
    );
    let unknown = app
        .post(
            "/promotions/0192f000-0000-7000-8000-000000000000/pause",
            Some(&admin),
            json!({}),
        )
        .await;
    problem(unknown, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn a_cart_shows_its_code_per_line_and_the_order_keeps_it_through_confirmation_and_cancellation()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let things = app.product(&admin, "Lamp", 3333, 10).await;
    let (_, token) = app.customer().await;

    // Codes a customer can act on: unknown, paused, below its minimum.
    add(&app, &token, &things, 1).await;
    let unknown = problem(
        apply(&app, &token, "NOPE-NOPE").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(unknown["type"], "/problems/discount_code_unknown");
    promotion(
        &app,
        &admin,
        "BIGSPEND",
        json!({"min_subtotal": {"amount": 10000, "currency": "EUR"}}),
    )
    .await;
    let below = problem(
        apply(&app, &token, "bigspend").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(below["type"], "/problems/discount_below_minimum");
    let paused = promotion(&app, &admin, "PAUSED1", json!({})).await;
    app.post(
        &format!("/promotions/{paused}/pause"),
        Some(&admin),
        json!({}),
    )
    .await;
    let refused = problem(
        apply(&app, &token, "PAUSED1").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["type"], "/problems/discount_code_paused");

    // 10 % of 3 × 33.33 = 99.99 is 10.00 (rounded half up), split over one line.
    add(&app, &token, &things, 2).await;
    let id = promotion(&app, &admin, "TENOFF", json!({"max_redemptions": 3})).await;
    let applied = apply(&app, &token, "tenoff").await;
    assert_eq!(applied.status(), StatusCode::ACCEPTED);
    let position = body(applied).await["position"].as_str().unwrap().to_owned();
    let cart = cart_at(&app, &token, &position).await;
    assert_eq!(cart["discount"]["code"], "TENOFF", "{cart}");
    assert_eq!(cart["discount"]["amount"]["amount"], 1000, "{cart}");
    assert!(cart["discount"]["reason"].is_null());
    assert_eq!(cart["subtotal"]["amount"], 9999);
    assert_eq!(cart["total"]["amount"], 8999);
    assert_eq!(cart["items"][0]["discount"]["amount"], 1000);

    let placed = check_out(&app, &token).await;
    assert_eq!(placed.status(), StatusCode::ACCEPTED);
    let order_id = body(placed).await["id"].as_str().unwrap().to_owned();
    let order = settled(&app, &token, &order_id).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(order["subtotal"]["amount"], 9999);
    assert_eq!(
        order["discount"],
        json!({"code": "TENOFF", "amount": {"amount": 1000, "currency": "EUR"}})
    );
    assert_eq!(order["total"]["amount"], 8999);
    assert_eq!(order["items"][0]["discount"]["amount"], 1000);
    // The payment is for the discounted total.
    assert_eq!(order["payment"]["amount"]["amount"], 8999);
    listed(&app, &admin, &id, |p| p["redeemed"] == 1 && p["held"] == 0).await;

    // Cancelled: refunded exactly what was charged, and the redemption given back.
    let cancel = app
        .post(
            &format!("/orders/{order_id}/cancel"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(cancel.status(), StatusCode::ACCEPTED);
    let order = eventually("the refund", Duration::from_secs(15), async || {
        let order = body(app.get(&format!("/orders/{order_id}"), Some(&token)).await).await;
        (order["payment"]["status"] == "refunded").then_some(order)
    })
    .await;
    assert_eq!(order["payment"]["amount"]["amount"], 8999);
    listed(&app, &admin, &id, |p| p["redeemed"] == 0 && p["held"] == 0).await;
    let stored: Vec<String> = app.event_types("promotion", &id).await;
    assert_eq!(
        stored,
        [
            "PromotionCreated",
            "RedemptionHeld",
            "RedemptionCounted",
            "RedemptionReleased"
        ]
    );
}

#[tokio::test]
async fn a_code_that_stops_applying_is_shown_with_its_reason_and_refused_at_checkout_with_nothing_written()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Mug", 1500, 10).await;
    let (_, token) = app.customer().await;
    add(&app, &token, &product, 2).await;
    let id = promotion(
        &app,
        &admin,
        "FIVEOFF",
        json!({"amount_off": {"amount": 500, "currency": "EUR"}}),
    )
    .await;
    assert_eq!(
        apply(&app, &token, "FIVEOFF").await.status(),
        StatusCode::ACCEPTED
    );
    let paused = app
        .post(&format!("/promotions/{id}/pause"), Some(&admin), json!({}))
        .await;
    let position = body(paused).await["position"].as_str().unwrap().to_owned();

    let cart = cart_at(&app, &token, &position).await;
    assert_eq!(cart["discount"]["amount"]["amount"], 0, "{cart}");
    assert_eq!(cart["discount"]["reason"], "this discount code is paused");
    assert_eq!(cart["total"]["amount"], 3000);

    let events = app.event_count().await;
    let refused = problem(
        check_out(&app, &token).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(refused["type"], "/problems/discount_code_paused");
    assert_eq!(app.event_count().await, events);
    // The customer removes it and checks out at the full price.
    let removed = app
        .request(reqwest::Method::DELETE, "/cart/discount", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::ACCEPTED);
    let placed = check_out(&app, &token).await;
    assert_eq!(placed.status(), StatusCode::ACCEPTED);
    let order_id = body(placed).await["id"].as_str().unwrap().to_owned();
    let order = settled(&app, &token, &order_id).await;
    assert_eq!(order["total"]["amount"], 3000);
    assert!(order["discount"].is_null());

    // A code without a limit is checked and recorded on the order, but never written by the checkout: its
    // use is counted from the orders.
    let resumed = app
        .post(&format!("/promotions/{id}/resume"), Some(&admin), json!({}))
        .await;
    assert_eq!(resumed.status(), StatusCode::ACCEPTED);
    add(&app, &token, &product, 1).await;
    assert_eq!(
        apply(&app, &token, "fiveoff").await.status(),
        StatusCode::ACCEPTED
    );
    let placed = check_out(&app, &token).await;
    assert_eq!(placed.status(), StatusCode::ACCEPTED);
    let order_id = body(placed).await["id"].as_str().unwrap().to_owned();
    let order = settled(&app, &token, &order_id).await;
    assert_eq!(order["status"], "confirmed", "{order}");
    assert_eq!(order["total"]["amount"], 1000);
    listed(&app, &admin, &id, |p| p["redeemed"] == 1 && p["held"] == 0).await;
    assert_eq!(
        app.event_types("promotion", &id).await,
        ["PromotionCreated", "PromotionPaused", "PromotionResumed"]
    );
}

#[tokio::test]
async fn a_hundred_customers_racing_for_ten_redemptions_get_ten_orders_with_the_code_and_ninety_refusals()
 {
    let app = spawn_app_with(&[("SHOP_REGISTRATIONS_PER_MINUTE", "200")]).await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Ticket", 2000, 1000).await;
    let id = promotion(&app, &admin, "FIRST10", json!({"max_redemptions": 10})).await;
    let mut customers = Vec::new();
    for _ in 0..100 {
        let (_, token) = app.customer().await;
        add(&app, &token, &product, 1).await;
        assert_eq!(
            apply(&app, &token, "FIRST10").await.status(),
            StatusCode::ACCEPTED
        );
        customers.push(token);
    }
    let answers = join_all(customers.iter().map(|token| check_out(&app, token))).await;
    let mut placed = Vec::new();
    let mut used_up = 0;
    for (answer, token) in answers.into_iter().zip(&customers) {
        match answer.status() {
            StatusCode::ACCEPTED => {
                placed.push((body(answer).await["id"].as_str().unwrap().to_owned(), token))
            }
            StatusCode::UNPROCESSABLE_ENTITY => {
                let refusal = body(answer).await;
                assert_eq!(
                    refusal["type"], "/problems/discount_code_used_up",
                    "{refusal}"
                );
                used_up += 1;
            }
            other => panic!(
                "checkout answered {other}: {}",
                answer.text().await.unwrap()
            ),
        }
    }
    assert_eq!((placed.len(), used_up), (10, 90));
    let orders = join_all(
        placed
            .iter()
            .map(|(order, token)| settled(&app, token, order)),
    )
    .await;
    for order in &orders {
        assert_eq!(order["status"], "confirmed", "{order}");
        assert_eq!(order["discount"]["code"], "FIRST10");
        assert_eq!(order["total"]["amount"], 1800);
    }
    listed(&app, &admin, &id, |p| p["redeemed"] == 10 && p["held"] == 0).await;
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'promotion' AND event_type = 'RedemptionHeld'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(held, 10);
}

#[tokio::test]
async fn an_order_its_code_makes_free_is_confirmed_without_asking_the_payment_provider() {
    // Stripe (localstripe here) refuses amounts under its minimum: a free order must never reach it.
    let app = spawn_app_with_stripe().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Sample Tea", 450, 3).await;
    promotion(&app, &admin, "ONTHEHOUSE", json!({"percent_off": 100})).await;
    let (_, token) = app.customer().await;
    add(&app, &token, &product, 2).await;
    assert_eq!(
        apply(&app, &token, "ONTHEHOUSE").await.status(),
        StatusCode::ACCEPTED
    );
    let placed = check_out(&app, &token).await;
    assert_eq!(placed.status(), StatusCode::ACCEPTED);
    let order = body(placed).await["id"].as_str().unwrap().to_owned();

    let confirmed = settled(&app, &token, &order).await;
    assert_eq!(confirmed["status"], "confirmed", "{confirmed}");
    assert_eq!(confirmed["total"]["amount"], 0);
    assert_eq!(confirmed["payment"]["status"], "nothing_to_pay");
    assert_eq!(
        confirmed["discount"]["amount"]["amount"], 900,
        "{confirmed}"
    );
    assert!(
        app.event_types("payment", &order).await.is_empty(),
        "no payment was started"
    );
    assert!(
        app.event_types("checkout", &order)
            .await
            .contains(&"CheckoutNothingToPay".to_owned())
    );

    // Cancelled later, its stock goes back and nothing is refunded.
    let cancelled = app
        .post(&format!("/orders/{order}/cancel"), Some(&token), json!({}))
        .await;
    assert_eq!(cancelled.status(), StatusCode::ACCEPTED);
    let cancelled = eventually(
        "the free order is cancelled",
        Duration::from_secs(15),
        async || {
            let order = body(app.get(&format!("/orders/{order}"), Some(&token)).await).await;
            (order["status"] == "cancelled").then_some(order)
        },
    )
    .await;
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["payment"]["status"], "nothing_to_pay");
    eventually("its stock is back", Duration::from_secs(15), async || {
        let shown = body(app.get(&format!("/products/{product}"), None).await).await;
        (shown["available"] == 3).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_stale_if_match_on_the_carts_code_is_412_before_anything_about_the_code() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Linen Scarf", 2500, 5).await;
    let (_, token) = app.customer().await;
    add(&app, &token, &product, 1).await;
    let stale = app
        .request(reqwest::Method::POST, "/cart/discount", Some(&token))
        .header("if-match", "\"99\"")
        .json(&json!({"code": "NO-SUCH-CODE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(stale, StatusCode::PRECONDITION_FAILED).await["type"],
        "/problems/version_mismatch"
    );
    // With no precondition the code itself is judged.
    let unknown = apply(&app, &token, "NO-SUCH-CODE").await;
    assert_eq!(
        problem(unknown, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/discount_code_unknown"
    );
}

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{body, problem, spawn_app};

fn product(sku: &str) -> serde_json::Value {
    json!({"sku": sku, "name": "Blue Shirt", "description": "Cotton", "category": "Shirts",
           "price": {"amount": 1999, "currency": "EUR"}, "stock": 5})
}

#[tokio::test]
async fn an_administrator_creates_a_product() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created = app
        .post("/products", Some(&admin), product("SHIRT-1"))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = body(created).await;
    let id = created["id"].as_str().unwrap();
    assert!(created["position"].is_string());
    assert_eq!(app.event_types("product", id).await, ["ProductCreated"]);
}

#[tokio::test]
async fn only_administrators_manage_the_catalog() {
    let app = spawn_app().await;
    let (_, customer) = app.customer().await;
    problem(
        app.post("/products", Some(&customer), product("SHIRT-2"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        app.post("/products", None, product("SHIRT-2")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn a_duplicate_sku_is_a_conflict() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.post("/products", Some(&admin), product("DUP-1")).await;
    let again = problem(
        app.post("/products", Some(&admin), product("dup-1")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(again["type"], "/problems/sku_taken");
}

#[tokio::test]
async fn a_negative_price_or_stock_is_refused() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut bad = product("NEG-1");
    bad["price"]["amount"] = json!(-1);
    bad["stock"] = json!(-3);
    let refused = problem(
        app.post("/products", Some(&admin), bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(refused["errors"]["price"].is_string() && refused["errors"]["stock"].is_string());
    let mut wrong_type = product("NEG-2");
    wrong_type["price"] = json!("19.99");
    problem(
        app.post("/products", Some(&admin), wrong_type).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn stock_is_restocked_and_written_off_but_never_below_zero() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let id = app.product(&admin, "Lamp", 4500, 2).await;
    let restock = app
        .post(
            &format!("/products/{id}/stock"),
            Some(&admin),
            json!({"delta": 10}),
        )
        .await;
    assert_eq!(restock.status(), StatusCode::ACCEPTED);
    let too_much = app
        .post(
            &format!("/products/{id}/stock"),
            Some(&admin),
            json!({"delta": -13}),
        )
        .await;
    problem(too_much, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        app.event_types("product", &id).await,
        ["ProductCreated", "StockAdjusted"]
    );
}

#[tokio::test]
async fn a_product_is_edited_with_if_match_and_discontinued() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let id = app.product(&admin, "Mug", 900, 3).await;
    let edit = |version: &'static str| {
        app.request(Method::PATCH, &format!("/products/{id}"), Some(&admin))
            .header("if-match", version)
            .json(&json!({"name": "Big Mug", "price": {"amount": 1100, "currency": "EUR"}}))
            .send()
    };
    problem(
        edit("\"5\"").await.unwrap(),
        StatusCode::PRECONDITION_FAILED,
    )
    .await;
    assert_eq!(edit("\"1\"").await.unwrap().status(), StatusCode::ACCEPTED);
    let gone = app
        .post(
            &format!("/products/{id}/discontinue"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(gone.status(), StatusCode::ACCEPTED);
    let twice = app
        .post(
            &format!("/products/{id}/discontinue"),
            Some(&admin),
            json!({}),
        )
        .await;
    problem(twice, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn an_unknown_product_is_not_found() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let unknown = app
        .post(
            "/products/0193a4a0-0000-7000-8000-000000000000/stock",
            Some(&admin),
            json!({"delta": 1}),
        )
        .await;
    problem(unknown, StatusCode::NOT_FOUND).await;
    let not_an_id = app
        .post("/products/xyz/stock", Some(&admin), json!({"delta": 1}))
        .await;
    problem(not_an_id, StatusCode::NOT_FOUND).await;
}

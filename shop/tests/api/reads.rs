//! The read side through HTTP: what a customer sees right after writing it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use std::time::Duration;

use eventstore::testing::eventually;

use crate::helpers::{TestApp, body, problem, spawn_app, spawn_app_with};

/// GET with `X-Min-Position`, so the read waits for the projectors.
async fn read(app: &TestApp, path: &str, token: Option<&str>, position: &str) -> reqwest::Response {
    app.request(Method::GET, path, token)
        .header("x-min-position", position)
        .send()
        .await
        .unwrap()
}

async fn write(app: &TestApp, path: &str, token: &str, body_json: Value) -> String {
    let answer = app.post(path, Some(token), body_json).await;
    assert!(answer.status().is_success(), "{path}: {}", answer.status());
    body(answer).await["position"].as_str().unwrap().to_owned()
}

/// A second process that only serves queries, on the same stores as `app`: its catalog index is its own,
/// built from the feed.
async fn query_instance_beside(app: &TestApp) -> TestApp {
    let settings = &app.settings;
    crate::helpers::spawn_app_with_roles(
        &[
            ("DATABASE_URL", settings.database_url.expose()),
            ("REDIS_PREFIX", &settings.redis_prefix),
            ("MONGODB_DATABASE", &settings.mongodb_database),
            ("AMQP_PREFIX", &settings.amqp_prefix),
        ],
        shop::Roles(vec![shop::Role::QueryApi]),
    )
    .await
}

async fn product(
    app: &TestApp,
    admin: &str,
    sku: &str,
    name: &str,
    category: &str,
    amount: i64,
    stock: i64,
) -> (String, String) {
    let answer = app
        .post(
            "/products",
            Some(admin),
            json!({"sku": sku, "name": name, "description": format!("{name} for everyone"), "category": category,
                   "price": {"amount": amount, "currency": "EUR"}, "stock": stock}),
        )
        .await;
    let answer = body(answer).await;
    (
        answer["id"].as_str().unwrap().to_owned(),
        answer["position"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn a_new_customer_reads_their_profile_right_after_registering() {
    let app = spawn_app().await;
    let registered = body(
        app.register("reader@example.com", "correct horse battery")
            .await,
    )
    .await;
    let token = body(
        app.login("reader@example.com", "correct horse battery")
            .await,
    )
    .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = read(
        &app,
        "/me",
        Some(&token),
        registered["position"].as_str().unwrap(),
    )
    .await;
    assert_eq!(me.status(), StatusCode::OK);
    assert!(!me.headers().contains_key("x-read-model-stale"));
    let me = body(me).await;
    assert_eq!(me["email"], "reader@example.com");
    assert_eq!(me["role"], "customer");
    assert_eq!(me["id"], registered["id"]);
}

#[tokio::test]
async fn the_catalog_is_searched_filtered_sorted_and_paged() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&app, &admin, "SHIRT-BLUE", "Blue Shirt", "Shirts", 1999, 5).await;
    product(&app, &admin, "SHIRT-RED", "Red Shirt", "Shirts", 2499, 0).await;
    product(&app, &admin, "MUG-1", "Blue Mug", "Kitchen", 900, 3).await;
    let (old, _) = product(&app, &admin, "OLD-1", "Blue Relic", "Kitchen", 100, 1).await;
    let last = write(
        &app,
        &format!("/products/{old}/discontinue"),
        &admin,
        json!({}),
    )
    .await;

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for (q, found) in [
        ("blue%20shi", vec!["Blue Shirt"]),
        ("blue%20shrit", vec!["Blue Shirt"]),
        ("bleu%20shirt", vec![]),
        ("blu%20shirt", vec![]),
    ] {
        let search = body(read(&app, &format!("/products?q={q}"), None, &last).await).await;
        assert_eq!(
            names(&search),
            found,
            "{q}: every word exactly, within its typo limit, or the last as a prefix"
        );
    }
    // An exact SKU first, then names holding every word, then the rest.
    let shirts = body(app.get("/products?q=shirt-red", None).await).await;
    assert_eq!(names(&shirts)[0], "Red Shirt");
    let facets = &body(app.get("/products?q=shirt&category=Shirts", None).await).await["facets"];
    assert_eq!(
        facets["categories"],
        json!([{"name": "Shirts", "count": 2}]),
        "{facets}"
    );
    assert_eq!(facets["in_stock"], 1);
    assert_eq!(facets["price"], json!([{"min": 10, "max": 25, "count": 2}]));
    let facets = &body(app.get("/products?q=blue&category=Kitchen", None).await).await["facets"];
    assert_eq!(
        facets["categories"],
        json!([{"name": "Kitchen", "count": 1}, {"name": "Shirts", "count": 1}]),
        "a category chosen still shows the others' counts"
    );

    let blue = body(app.get("/products?q=BLUE&sort=price_asc", None).await).await;
    let names: Vec<&str> = blue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Blue Mug", "Blue Shirt"],
        "discontinued products are hidden"
    );

    let in_stock = body(
        app.get("/products?category=Shirts&in_stock=true", None)
            .await,
    )
    .await;
    assert_eq!(in_stock["total"], 1);
    let priced = body(
        app.get("/products?min_price=1000&max_price=2000", None)
            .await,
    )
    .await;
    assert_eq!(priced["items"][0]["sku"], "SHIRT-BLUE");

    let page = body(
        app.get("/products?sort=price_desc&limit=2&page=2", None)
            .await,
    )
    .await;
    assert_eq!(
        (
            page["total"].as_u64(),
            page["pages"].as_u64(),
            page["page"].as_u64()
        ),
        (Some(3), Some(2), Some(2))
    );
    assert_eq!(page["items"][0]["name"], "Blue Mug");
    let first = &body(app.get("/products?sort=price_desc", None).await).await["items"][0];
    for field in [
        "id",
        "sku",
        "name",
        "description",
        "category",
        "price",
        "available",
        "in_stock",
        "created_at",
        "updated_at",
    ] {
        assert!(!first[field].is_null(), "{field}");
    }

    let categories = body(app.get("/categories", None).await).await;
    assert_eq!(
        categories["categories"],
        json!([{"name": "Kitchen", "count": 1}, {"name": "Shirts", "count": 2}])
    );
}

#[tokio::test]
async fn bad_catalog_parameters_are_refused_and_operators_in_search_text_are_plain_text() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, position) = product(&app, &admin, "WIDGET-1", "Widget", "Tools", 500, 1).await;
    for bad in [
        "limit=0",
        "limit=101",
        "page=0",
        "min_price=cheap",
        "in_stock=maybe",
        "sort=best",
    ] {
        problem(
            app.get(&format!("/products?{bad}"), None).await,
            StatusCode::BAD_REQUEST,
        )
        .await;
    }
    let long = "a".repeat(201);
    let many = "a%20".repeat(11);
    for (bad, parameter) in [
        (format!("q={long}"), "q"),
        (format!("q={many}"), "q"),
        ("page=101&limit=100".to_owned(), "page"),
        ("page=184467440737095517&limit=100".to_owned(), "page"),
        ("min_price=500&max_price=100".to_owned(), "min_price"),
    ] {
        let refused = problem(
            app.get(&format!("/products?{bad}"), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(refused["errors"][parameter].is_string(), "{bad}: {refused}");
    }
    let injected = read(
        &app,
        "/products?q=%7B%22%24gt%22%3A%22%22%7D&unknown=1",
        None,
        &position,
    )
    .await;
    assert_eq!(injected.status(), StatusCode::OK);
    assert_eq!(
        body(injected).await["total"],
        0,
        "the text matches no product; it is not an operator"
    );
    let regex = body(app.get("/products?q=.*", None).await).await;
    assert_eq!(
        regex["total"], 1,
        "no words: everything listed, not a regex"
    );
}

#[tokio::test]
async fn a_product_is_shown_with_its_stock_and_etag_and_unknown_ones_are_not_found() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, _) = product(&app, &admin, "LAMP-1", "Lamp", "Home", 4500, 2).await;
    let position = write(
        &app,
        &format!("/products/{id}/stock"),
        &admin,
        json!({"delta": 3}),
    )
    .await;
    let shown = read(&app, &format!("/products/{id}"), None, &position).await;
    assert_eq!(shown.status(), StatusCode::OK);
    assert_eq!(shown.headers()["etag"], "\"2\"");
    let shown = body(shown).await;
    assert_eq!(
        (shown["available"].as_i64(), shown["in_stock"].as_bool()),
        (Some(5), Some(true))
    );
    problem(
        app.get("/products/0193a4a0-0000-7000-8000-000000000000", None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// The hot views are served from process memory after the first read (the near cache, ADR 0010): a change
/// must still show at once to a read that names its position, and to every read after that one.
#[tokio::test]
async fn product_and_cart_reads_served_from_memory_show_a_change_as_soon_as_it_is_read() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (id, created) = product(&app, &admin, "KET-1", "Kettle", "Kitchen", 3000, 4).await;
    let (_, token) = app.customer().await;
    let added = write(
        &app,
        "/cart/items",
        &token,
        json!({"product_id": id, "quantity": 2}),
    )
    .await;
    let price = |product: &Value| product["price"]["amount"].as_i64();
    let shown = body(read(&app, &format!("/products/{id}"), None, &created).await).await;
    assert_eq!(price(&shown), Some(3000));
    let cart = body(read(&app, "/cart", Some(&token), &added).await).await;
    assert_eq!(cart["total"]["amount"], 6000);
    // Read again without a position: these may now come from memory.
    assert_eq!(
        price(&body(app.get(&format!("/products/{id}"), None).await).await),
        Some(3000)
    );
    assert_eq!(
        body(app.get("/cart", Some(&token)).await).await["total"]["amount"],
        6000
    );

    for amount in [3500, 4000] {
        let answer = app
            .request(Method::PATCH, &format!("/products/{id}"), Some(&admin))
            .json(&json!({"price": {"amount": amount, "currency": "EUR"}}))
            .send()
            .await
            .unwrap();
        let changed = body(answer).await["position"].as_str().unwrap().to_owned();
        let shown = read(&app, &format!("/products/{id}"), None, &changed).await;
        assert!(shown.headers().get("x-read-model-stale").is_none());
        assert_eq!(price(&body(shown).await), Some(amount));
        let cart = body(read(&app, "/cart", Some(&token), &changed).await).await;
        assert_eq!(cart["total"]["amount"], 2 * amount);
        assert_eq!(
            price(&body(app.get(&format!("/products/{id}"), None).await).await),
            Some(amount),
            "a later read without a position must not go back to the old price"
        );
        assert_eq!(
            body(app.get("/cart", Some(&token)).await).await["total"]["amount"],
            2 * amount
        );
    }
}

/// A product once read is answered from memory, and a change reaches it through the projector's
/// announcement alone: the values here would otherwise be kept for ten minutes.
#[tokio::test]
async fn a_product_held_in_memory_is_dropped_when_the_projector_announces_a_change() {
    let app = spawn_app_with(&[("SHOP_NEAR_CACHE_MAX_AGE_MS", "600000")]).await;
    eventually(
        "the near cache subscribes",
        Duration::from_secs(20),
        async || app.near_cache.is_live().then_some(()),
    )
    .await;
    let admin = app.admin().await;
    let (id, created) = product(&app, &admin, "VAS-1", "Vase", "Home", 3000, 4).await;
    let path = format!("/products/{id}");
    let price = |product: Value| product["price"]["amount"].as_i64();
    assert_eq!(
        price(body(read(&app, &path, None, &created).await).await),
        Some(3000)
    );

    // Behind the cache's back (no announcement), Redis gets another price; memory must go on showing the
    // one read. (A read that an announcement overtook is not kept, so this is tried a few times.)
    let key = format!("{}rm:product_details:g0:{id}", app.settings.redis_prefix);
    let mut redis = redis::Client::open(app.settings.redis_url.expose())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut attempts = 0;
    loop {
        let shown = price(body(app.get(&path, None).await).await).unwrap();
        let stored: String = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut redis)
            .await
            .unwrap();
        let mut sneaked: Value = serde_json::from_str(&stored).unwrap();
        sneaked["price"]["amount"] = json!(shown + 1);
        redis::cmd("SET")
            .arg(&key)
            .arg(sneaked.to_string())
            .query_async::<()>(&mut redis)
            .await
            .unwrap();
        if price(body(app.get(&path, None).await).await) == Some(shown) {
            break;
        }
        attempts += 1;
        assert!(attempts < 5, "the product was never served from memory");
    }

    let answer = app
        .request(Method::PATCH, &path, Some(&admin))
        .json(&json!({"price": {"amount": 4200, "currency": "EUR"}}))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_success());
    eventually(
        "the change reaches a read without a position",
        Duration::from_secs(20),
        async || (price(body(app.get(&path, None).await).await) == Some(4200)).then_some(()),
    )
    .await;
}

#[tokio::test]
async fn the_cart_shows_current_prices() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (shirt, _) = product(&app, &admin, "SH-1", "Shirt", "Shirts", 2000, 10).await;
    let (mug, _) = product(&app, &admin, "MU-1", "Mug", "Kitchen", 500, 10).await;
    let (_, token) = app.customer().await;
    write(
        &app,
        "/cart/items",
        &token,
        json!({"product_id": shirt, "quantity": 2}),
    )
    .await;
    write(
        &app,
        "/cart/items",
        &token,
        json!({"product_id": mug, "quantity": 1}),
    )
    .await;
    let answer = app
        .request(Method::PATCH, &format!("/products/{shirt}"), Some(&admin))
        .json(&json!({"price": {"amount": 2500, "currency": "EUR"}}))
        .send()
        .await
        .unwrap();
    let position = body(answer).await["position"].as_str().unwrap().to_owned();
    let cart = body(read(&app, "/cart", Some(&token), &position).await).await;
    assert_eq!(cart["item_count"], 3);
    assert_eq!(
        cart["total"],
        json!({"amount": 2 * 2500 + 500, "currency": "EUR"})
    );
    assert_eq!(cart["items"][0]["unit_price"]["amount"], 2500);
    assert_eq!(cart["items"][0]["line_total"]["amount"], 5000);
}

#[tokio::test]
async fn customers_see_their_own_orders_and_administrators_everyones() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (book, _) = product(&app, &admin, "BK-1", "Book", "Books", 1500, 10).await;
    let (owner_id, owner) = app.customer().await;
    let (_, stranger) = app.customer().await;
    write(
        &app,
        "/cart/items",
        &owner,
        json!({"product_id": book, "quantity": 2}),
    )
    .await;
    let checkout = body(
        app.post(
            "/cart/checkout",
            Some(&owner),
            json!({"shipping_address": {"name": "A", "line1": "B", "city": "C", "postal_code": "1", "country": "DE"},
                   "payment_method": "pm_card_visa"}),
        )
        .await,
    )
    .await;
    let (order, position) = (
        checkout["id"].as_str().unwrap(),
        checkout["position"].as_str().unwrap(),
    );

    let shown = read(&app, &format!("/orders/{order}"), Some(&owner), position).await;
    assert!(shown.headers().contains_key("etag"));
    let shown = body(shown).await;
    // The saga may already have confirmed it.
    assert!(
        shown["status"] == "pending" || shown["status"] == "confirmed",
        "{shown}"
    );
    assert_eq!(shown["user_id"], owner_id);
    assert_eq!(shown["total"], json!({"amount": 3000, "currency": "EUR"}));
    assert_eq!(shown["timeline"][0]["status"], "pending");

    let mine = body(read(&app, "/orders", Some(&owner), position).await).await;
    assert_eq!(mine["total"], 1);
    assert_eq!(mine["items"][0]["item_count"], 2);
    let theirs = body(app.get("/orders", Some(&stranger)).await).await;
    assert_eq!(theirs["total"], 0);
    problem(
        app.get(&format!("/orders/{order}"), Some(&stranger)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let everyone = body(
        app.get(&format!("/orders?user_id={owner_id}"), Some(&admin))
            .await,
    )
    .await;
    assert_eq!(everyone["total"], 1);
    problem(
        app.get("/orders?status=lost", Some(&admin)).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn a_read_that_cannot_catch_up_in_time_says_it_is_stale() {
    let app = spawn_app().await;
    let future = app
        .request(Method::GET, "/categories", None)
        .header("x-min-position", "999999999.999999999")
        .send()
        .await
        .unwrap();
    assert_eq!(future.status(), StatusCode::OK);
    assert_eq!(future.headers()["x-read-model-stale"], "true");
    problem(
        read(&app, "/categories", None, "not-a-position").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn two_query_instances_on_one_store_build_their_own_index_and_answer_alike() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    product(&app, &admin, "TEA-1", "Green Tea", "Pantry", 450, 10).await;
    product(&app, &admin, "TEA-2", "Black Tea", "Pantry", 550, 0).await;
    let (mug, _) = product(&app, &admin, "MUG-9", "Tea Mug", "Kitchen", 1200, 4).await;
    let last = write(
        &app,
        &format!("/products/{mug}/stock"),
        &admin,
        json!({"delta": -4}),
    )
    .await;

    let second = query_instance_beside(&app).await;
    for path in [
        "/products",
        "/products?q=tea",
        "/products?q=te&in_stock=true",
        "/products?q=tae%20mugg&sort=relevance",
        "/products?category=Pantry&sort=price_desc",
        "/categories",
    ] {
        let first = body(read(&app, path, None, &last).await).await;
        let other = body(read(&second, path, None, &last).await).await;
        assert_eq!(first, other, "{path}");
    }
    let tea = body(read(&second, "/products?q=tea", None, &last).await).await;
    assert_eq!(tea["total"], 3, "{tea}");
    assert_eq!(tea["facets"]["in_stock"], 1, "{tea}");
}

#[tokio::test]
async fn an_instance_started_while_writes_go_on_builds_its_index_and_gets_ready() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut mugs = Vec::new();
    for n in 0..6 {
        let sku = format!("MUG-{n}");
        mugs.push(
            product(&app, &admin, &sku, "Busy Mug", "Kitchen", 900, 0)
                .await
                .0,
        );
    }

    // Writers that never pause until the end of the test, one per product: the feed grows all through the
    // second instance's build.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Through the command bus in this process: faster than HTTP, so that the feed grows faster than a build
    // that chased its head could read it.
    let bus = std::sync::Arc::new(eventstore::CommandBus::new(app.pool.clone()));
    let writers: Vec<_> = mugs
        .iter()
        .map(|mug| {
            let (bus, mug, stop) = (bus.clone(), mug.clone(), stop.clone());
            tokio::spawn(async move {
                let metadata = eventstore::CommandMetadata::new_chain();
                let mut added = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let command = domain::product::ProductCommand::AdjustStock {
                        delta: 1,
                        at: chrono::Utc::now(),
                    };
                    bus.execute::<domain::product::Product>(&mug, command, &metadata, None)
                        .await
                        .unwrap();
                    added += 1;
                }
                added
            })
        })
        .collect();

    let second = query_instance_beside(&app).await;
    eventually(
        "the index is built while the writes go on",
        Duration::from_secs(60),
        async || {
            let ready = second
                .client
                .get(format!("{}/health/ready", second.address))
                .send()
                .await
                .unwrap();
            (ready.status() == StatusCode::OK).then_some(())
        },
    )
    .await;
    assert!(
        !writers.iter().any(|w| w.is_finished()),
        "the writes went on all through the build"
    );

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut added = 0;
    for writer in writers {
        added += writer.await.unwrap();
    }
    let last = write(
        &app,
        &format!("/products/{}/stock", mugs[0]),
        &admin,
        json!({"delta": 1}),
    )
    .await;
    let found = body(read(&second, "/products?q=busy", None, &last).await).await;
    let available: i64 = (0..6)
        .map(|n| found["items"][n]["available"].as_i64().unwrap())
        .sum();
    assert_eq!(available, added + 1, "{found}");
}

#[tokio::test]
async fn replay_verify_compares_an_instances_catalog_with_a_rebuild_and_finds_what_differs() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (kettle, _) = product(&app, &admin, "KET-1", "Steel Kettle", "Kitchen", 3900, 3).await;
    product(&app, &admin, "TEA-5", "Oolong Tea", "Pantry", 800, 12).await;
    let last = write(
        &app,
        &format!("/products/{kettle}/stock"),
        &admin,
        json!({"delta": -3}),
    )
    .await;
    read(&app, "/products", None, &last).await;

    assert_eq!(
        shop::replay::verify_catalog(&app.settings, &app.address)
            .await
            .unwrap(),
        0,
        "an instance's index equals a rebuild up to the position it serves"
    );

    // An instance of another store serves other documents: compared with this store's feed, they differ.
    let other = spawn_app().await;
    let other_admin = other.admin().await;
    let (_, position) = product(
        &other,
        &other_admin,
        "KET-1",
        "Copper Kettle",
        "Kitchen",
        5900,
        1,
    )
    .await;
    read(&other, "/products", None, &position).await;
    let differing = shop::replay::verify_catalog(&app.settings, &other.address)
        .await
        .unwrap();
    assert!(differing > 0, "a different catalog is found out");

    let (_, customer) = app.customer().await;
    let refused = app.get("/admin/catalog/snapshot", Some(&customer)).await;
    problem(refused, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn ids_in_paths_that_are_not_uuids_are_not_found_without_touching_a_store() {
    let app = spawn_app().await;
    let (_, customer) = app.customer().await;
    let long = "x".repeat(60_000);
    for path in [
        "/products/_checkpoint".to_owned(),
        "/products/not-a-uuid".to_owned(),
        format!("/products/{long}"),
        "/orders/_checkpoint".to_owned(),
    ] {
        problem(app.get(&path, Some(&customer)).await, StatusCode::NOT_FOUND).await;
    }
}

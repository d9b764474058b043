//! The OpenAPI document at `/api/v1/openapi.json` covers every route the application serves, and only those
//! (docs/adr/0007-openapi.md):
//!
//! - the routers of command-api and query-api (and the operations routes in shop) register every handler
//!   with utoipa-axum's `routes!`, which takes the method and path from the handler's `#[utoipa::path]` and
//!   adds them to the router and the document together; [`no_route_is_registered_past_the_document`]
//!   fails if a source file registers a route any other way;
//! - [`every_documented_route_is_served`] sends a request to each documented method and path and fails on
//!   the router's own "no such route" or "method not allowed" answers;
//! - [`the_document_lists_the_routes_of_the_contract`] holds the document to shared/API.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{TestApp, body, problem, spawn_app};

/// shared/API.md's routes, and the one this project adds (ADR 0013): method, path, the status of success, and
/// whether a token is needed.
const CONTRACT: [(&str, &str, u16, bool); 42] = [
    ("post", "/api/v1/auth/register", 201, false),
    ("post", "/api/v1/auth/login", 200, false),
    ("post", "/api/v1/auth/logout", 204, true),
    ("get", "/api/v1/me", 200, true),
    ("patch", "/api/v1/me", 202, true),
    ("post", "/api/v1/products", 201, true),
    ("patch", "/api/v1/products/{id}", 202, true),
    ("post", "/api/v1/products/{id}/stock", 202, true),
    ("post", "/api/v1/products/{id}/discontinue", 202, true),
    ("post", "/api/v1/products/{id}/images", 201, true),
    ("put", "/api/v1/products/{id}/images", 202, true),
    (
        "delete",
        "/api/v1/products/{id}/images/{image_id}",
        202,
        true,
    ),
    ("get", "/api/v1/products", 200, false),
    ("get", "/api/v1/products/{id}", 200, false),
    ("get", "/api/v1/categories", 200, false),
    ("get", "/api/v1/cart", 200, true),
    ("post", "/api/v1/cart/items", 202, true),
    ("put", "/api/v1/cart/items/{product_id}", 202, true),
    ("delete", "/api/v1/cart/items/{product_id}", 202, true),
    ("post", "/api/v1/cart/discount", 202, true),
    ("delete", "/api/v1/cart/discount", 202, true),
    ("post", "/api/v1/cart/checkout", 202, true),
    ("post", "/api/v1/promotions", 201, true),
    ("get", "/api/v1/promotions", 200, true),
    ("post", "/api/v1/promotions/{id}/pause", 202, true),
    ("post", "/api/v1/promotions/{id}/resume", 202, true),
    ("post", "/api/v1/promotions/{id}/end", 202, true),
    ("get", "/api/v1/orders", 200, true),
    ("get", "/api/v1/orders/{id}", 200, true),
    ("post", "/api/v1/orders/{id}/cancel", 202, true),
    ("post", "/api/v1/orders/{id}/ship", 202, true),
    ("post", "/api/v1/orders/{id}/deliver", 202, true),
    ("get", "/api/v1/notifications", 200, true),
    ("get", "/api/v1/admin/events", 200, true),
    (
        "get",
        "/api/v1/admin/streams/{aggregate_type}/{aggregate_id}",
        200,
        true,
    ),
    ("get", "/api/v1/admin/audit/verify", 200, true),
    // Not in the contract's table: what `shop replay --projector catalog --verify` compares (ADR 0013).
    ("get", "/api/v1/admin/catalog/snapshot", 200, true),
    // Not in the contract's table: where the `url`s of a product's `images` point.
    ("get", "/media/{digest}/{name}", 200, false),
    ("get", "/health/live", 200, false),
    ("get", "/health/ready", 200, false),
    ("get", "/metrics", 200, false),
    ("get", "/api/v1/openapi.json", 200, false),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn fetch_document(app: &TestApp) -> Value {
    let response = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    body(response).await
}

/// Every (method, path) the document lists.
fn operations(doc: &Value) -> BTreeMap<(String, String), &Value> {
    let mut operations = BTreeMap::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.insert((method.to_owned(), path.clone()), operation);
            }
        }
    }
    operations
}

#[tokio::test]
async fn the_document_lists_the_routes_of_the_contract() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "shop");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let operations = operations(&doc);
    let documented: BTreeSet<_> = operations.keys().cloned().collect();
    let contract: BTreeSet<_> = CONTRACT
        .iter()
        .map(|(method, path, _, _)| (method.to_string(), path.to_string()))
        .collect();
    assert_eq!(
        documented, contract,
        "the document and shared/API.md list different routes"
    );

    let ids: Vec<&str> = operations
        .values()
        .map(|o| o["operationId"].as_str().expect("operationId"))
        .collect();
    assert_eq!(
        ids.iter().collect::<BTreeSet<_>>().len(),
        ids.len(),
        "operation ids must be unique: {ids:?}"
    );

    for (method, path, success, needs_token) in CONTRACT {
        let operation = operations[&(method.to_owned(), path.to_owned())];
        let route = format!("{method} {path}");
        let responses = operation["responses"].as_object().expect("responses");
        let successes: Vec<&String> = responses.keys().filter(|s| s.starts_with('2')).collect();
        assert_eq!(successes, [&success.to_string()], "{route}: success status");
        for (status, response) in responses {
            let api = path.starts_with("/api/v1/");
            if api && (status.starts_with('4') || status.starts_with('5')) {
                assert!(
                    response["content"]["application/problem+json"].is_object(),
                    "{route}: {status} is not problem+json"
                );
            }
        }
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("bearer").is_some()));
        assert_eq!(secured, needs_token, "{route}: bearer security");

        let parameters: BTreeSet<(String, String)> = operation["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["in"].as_str().unwrap().to_owned(),
                    p["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for name in path_parameters(path) {
            assert!(
                parameters.contains(&("path".to_owned(), name.clone())),
                "{route}: path parameter {name} is not documented"
            );
        }
        if method == "post" && path.starts_with("/api/v1/") {
            // Every write but the login, whose answer carries a token and is never stored (ADR 0014).
            assert_eq!(
                parameters.contains(&("header".to_owned(), "Idempotency-Key".to_owned())),
                path != "/api/v1/auth/login",
                "{route}: Idempotency-Key"
            );
        }
        // Reads from read models take X-Min-Position; the audit reads the log itself, always current.
        let from_read_models = method == "get"
            && path.starts_with("/api/v1/")
            && !path.starts_with("/api/v1/admin/")
            && path != "/api/v1/openapi.json";
        if from_read_models {
            assert!(
                parameters.contains(&("header".to_owned(), "X-Min-Position".to_owned()))
                    && parameters.contains(&("query".to_owned(), "min_position".to_owned())),
                "{route}: X-Min-Position and min_position"
            );
        }
    }
}

fn path_parameters(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn every_documented_route_is_served() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;

    // The probe can tell the router's fallback from a handler's 404.
    let missing = app.get("/api/v1/no/such/route", None).await;
    assert_eq!(
        problem(missing, StatusCode::NOT_FOUND).await["type"],
        "/problems/no_such_route"
    );

    let operations = operations(&doc);
    assert!(operations.len() >= CONTRACT.len());
    for (method, path) in operations.keys() {
        // Any id will do: a handler's 404 for it is not the router's.
        let url: Vec<&str> = path
            .split('/')
            .map(|segment| match segment {
                "{aggregate_type}" => "order",
                s if s.starts_with('{') => "0190a7e4-0000-7000-8000-000000000000",
                s => s,
            })
            .collect();
        let url = url.join("/");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let response = app
            .request(method.clone(), &url, None)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let route = format!("{method} {path}");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{route}");
        if status == StatusCode::NOT_FOUND {
            let problem = body(response).await;
            assert_ne!(
                problem["type"], "/problems/no_such_route",
                "{route} is documented but not served"
            );
        }
    }
}

#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let app = spawn_app().await;
    let doc = fetch_document(&app).await;
    let mut references = Vec::new();
    collect_references(&doc, &mut references);
    assert!(!references.is_empty());
    for reference in references {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference} points outside the document"));
        assert!(doc.pointer(pointer).is_some(), "{reference} names nothing");
    }
}

fn collect_references(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    _ => collect_references(value, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, into)),
        _ => {}
    }
}

/// Merging the two documents keeps the first schema of a name: two different schemas under one name would
/// silently document one side wrongly.
#[test]
fn the_reads_and_writes_do_not_give_one_schema_name_two_meanings() {
    let schemas = |doc: utoipa::openapi::OpenApi| -> BTreeMap<String, Value> {
        let doc = serde_json::to_value(doc).unwrap();
        doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect()
    };
    let writes = schemas(command_api::document());
    let reads = schemas(query_api::document());
    let shared: Vec<&String> = writes.keys().filter(|k| reads.contains_key(*k)).collect();
    assert!(shared.contains(&&"Problem".to_owned()));
    for name in shared {
        assert_eq!(writes[name], reads[name], "schema {name}");
    }
}

#[tokio::test]
async fn the_reference_page_is_served_from_the_binary_and_reads_our_document() {
    let app = spawn_app().await;
    let page = app.get("/api/v1/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    assert!(!html.contains("http://") && !html.contains("https://"));

    let initializer = app
        .get("/api/v1/docs/swagger-initializer.js", None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
    assert!(!initializer.contains("http://") && !initializer.contains("https://"));
    let script = app.get("/api/v1/docs/swagger-ui-bundle.js", None).await;
    assert_eq!(script.status(), StatusCode::OK);
}

/// Routes registered with axum directly (`.route(...)` and the like) would be served but not documented;
/// utoipa-axum's `routes!` is the only way in.
#[test]
fn no_route_is_registered_past_the_document() {
    const FORBIDDEN: [&str; 5] = [
        ".route(",
        ".route_service(",
        ".nest_service(",
        "axum::routing",
        "routing::",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["command-api/src", "query-api/src", "shop/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(files.len() > 20, "found only {files:?}");
    let mut offences = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for pattern in FORBIDDEN {
                if code.contains(pattern) {
                    offences.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "register routes with utoipa_axum::routes! and #[utoipa::path] instead:\n{}",
        offences.join("\n")
    );
}

fn rust_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "rs") {
            into.push(path);
        }
    }
}

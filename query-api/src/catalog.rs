//! `GET /products`, `GET /products/{id}`, `GET /categories`.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use platform::Problem;
use projectors::store::query::{CatalogQuery, CatalogSort};
use projectors::views::catalog::CatalogProduct;
use projectors::views::product_cache::ProductDetails;
use projectors::views::stock::Stock;
use serde_json::{Value, json};

use crate::consistency::{Wait, min_position, unavailable};
use crate::params::{Params, invalid, optional, page_json, paging};
use crate::state::QueryState;

pub fn router() -> Router<QueryState> {
    Router::new()
        .route("/products", get(list))
        .route("/products/{id}", get(show))
        .route("/categories", get(categories))
}

fn product_json(p: &CatalogProduct) -> Value {
    json!({
        "id": p.id, "sku": p.sku, "name": p.name, "description": p.description, "category": p.category,
        "price": p.price, "available": p.available, "in_stock": p.in_stock,
        "created_at": p.created_at, "updated_at": p.updated_at,
    })
}

fn sort(params: &Params) -> Result<CatalogSort, Problem> {
    Ok(match params.get("sort").map(String::as_str) {
        None | Some("") | Some("relevance") => CatalogSort::Relevance,
        Some("price_asc") => CatalogSort::PriceAsc,
        Some("price_desc") => CatalogSort::PriceDesc,
        Some("name") => CatalogSort::Name,
        Some("newest") => CatalogSort::Newest,
        Some(_) => {
            return Err(invalid(
                "sort",
                "one of relevance, price_asc, price_desc, name, newest",
            ));
        }
    })
}

async fn list(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, Problem> {
    let (page, limit) = paging(&params)?;
    let query = CatalogQuery {
        text: params.get("q").cloned(),
        category: params.get("category").filter(|c| !c.is_empty()).cloned(),
        min_price: optional(&params, "min_price", "an amount in minor units")?,
        max_price: optional(&params, "max_price", "an amount in minor units")?,
        in_stock: optional(&params, "in_stock", "true or false")?,
        sort: sort(&params)?,
        page,
        limit,
    };
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<CatalogProduct>(&state.models).await;
    let found = state.models.catalog(&query).await.map_err(unavailable)?;
    let items = found.items.iter().map(product_json).collect();
    Ok(wait.finish(Json(page_json(&found, items))))
}

async fn show(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<ProductDetails>(&state.models).await;
    wait.for_view::<Stock>(&state.models).await;
    let Some(product) = state.models.product(&id).await.map_err(unavailable)? else {
        return Err(Problem::not_found());
    };
    if product.details.discontinued {
        return Err(Problem::not_found());
    }
    let (p, available) = (&product.details, product.available);
    let body = json!({
        "id": p.id, "sku": p.sku, "name": p.name, "description": p.description, "category": p.category,
        "price": p.price, "available": available, "in_stock": available > 0,
        "created_at": p.created_at, "updated_at": p.updated_at,
    });
    let mut response = wait.finish(Json(body));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{}\"", product.version)) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

async fn categories(
    State(state): State<QueryState>,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<CatalogProduct>(&state.models).await;
    let categories = state.models.categories().await.map_err(unavailable)?;
    let categories: Vec<Value> = categories
        .into_iter()
        .map(|(name, count)| json!({"name": name, "count": count}))
        .collect();
    Ok(wait.finish(Json(json!({ "categories": categories }))))
}

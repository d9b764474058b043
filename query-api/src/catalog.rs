//! `GET /products`, `GET /products/{id}`, `GET /categories`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::Problem;
use projectors::store::query::{CatalogQuery, CatalogSort};
use projectors::views::catalog::CatalogProduct;
use projectors::views::product_cache::ProductDetails;
use projectors::views::stock::Stock;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait, unavailable};
use crate::openapi::{BadRequest, MoneyBody, NotFound, Unavailable};
use crate::params::{Page, Paging, invalid, optional};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(categories))
}

/// A product as the catalog shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Product {
    #[schema(format = Uuid)]
    id: String,
    sku: String,
    name: String,
    description: String,
    category: String,
    price: Option<MoneyBody>,
    /// Units on hand minus those reserved.
    available: i64,
    in_stock: bool,
    created_at: Option<DateTime<Utc>>,
    updated_at: Option<DateTime<Utc>>,
}

impl From<&CatalogProduct> for Product {
    fn from(p: &CatalogProduct) -> Self {
        Self {
            id: p.id.clone(),
            sku: p.sku.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            category: p.category.clone(),
            price: p.price.map(MoneyBody::from),
            available: p.available,
            in_stock: p.in_stock,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

impl Product {
    fn of(p: ProductDetails, available: i64) -> Self {
        Self {
            id: p.id,
            sku: p.sku,
            name: p.name,
            description: p.description,
            category: p.category,
            price: p.price.map(MoneyBody::from),
            available,
            in_stock: available > 0,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// What to look for in the catalog.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogFilter {
    /// Words that must all match (prefixes count) the name, description, SKU or category,
    /// case-insensitive: `blu shi` finds "Blue Shirt".
    q: Option<String>,
    category: Option<String>,
    /// In minor units.
    #[param(value_type = Option<i64>)]
    min_price: Option<String>,
    /// In minor units.
    #[param(value_type = Option<i64>)]
    max_price: Option<String>,
    /// Only products with units available (`true`) or only those without (`false`).
    #[param(value_type = Option<bool>)]
    in_stock: Option<String>,
    /// `relevance` (the default), `price_asc`, `price_desc`, `name` or `newest`.
    #[param(example = "price_asc")]
    sort: Option<String>,
}

impl CatalogFilter {
    fn sort(&self) -> Result<CatalogSort, Problem> {
        Ok(match self.sort.as_deref() {
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
}

/// Searches the catalog; discontinued products are not listed.
#[utoipa::path(
    get,
    path = "/products",
    operation_id = "list_products",
    tag = "catalog",
    params(CatalogFilter, Paging, MinPosition),
    responses(
        (status = 200, description = "A page of products", body = Page<Product>,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unavailable,
    )
)]
async fn list(
    State(state): State<QueryState>,
    MinPosition(after): MinPosition,
    Query(filter): Query<CatalogFilter>,
    Query(paging): Query<Paging>,
) -> Result<Response, Problem> {
    let (page, limit) = paging.parse()?;
    let query = CatalogQuery {
        text: filter.q.clone(),
        category: filter.category.clone().filter(|c| !c.is_empty()),
        min_price: optional(
            filter.min_price.as_deref(),
            "min_price",
            "an amount in minor units",
        )?,
        max_price: optional(
            filter.max_price.as_deref(),
            "max_price",
            "an amount in minor units",
        )?,
        in_stock: optional(filter.in_stock.as_deref(), "in_stock", "true or false")?,
        sort: filter.sort()?,
        page,
        limit,
    };
    let mut wait = Wait::new(after);
    wait.for_view::<CatalogProduct>(&state.models).await;
    let found = state.models.catalog(&query).await.map_err(unavailable)?;
    Ok(wait.finish(Json(Page::of(&found, Product::from))))
}

/// One product, with its version as `ETag`. A discontinued product is not found.
#[utoipa::path(
    get,
    path = "/products/{id}",
    operation_id = "get_product",
    tag = "catalog",
    params(("id" = String, Path, format = Uuid, description = "The product"), MinPosition),
    responses(
        (status = 200, description = "The product", body = Product,
            headers(
                ("ETag" = String, description = "The product's version, for `If-Match`"),
                ("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"),
            )),
        BadRequest, NotFound, Unavailable,
    )
)]
async fn show(
    State(state): State<QueryState>,
    MinPosition(after): MinPosition,
    Path(id): Path<String>,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(after);
    wait.for_view::<ProductDetails>(&state.models).await;
    wait.for_view::<Stock>(&state.models).await;
    let Some(product) = state
        .models
        .product(&id, after)
        .await
        .map_err(unavailable)?
    else {
        return Err(Problem::not_found());
    };
    if product.details.discontinued {
        return Err(Problem::not_found());
    }
    let version = product.version;
    let mut response = wait.finish(Json(Product::of(product.details, product.available)));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

/// The categories of listed products.
#[derive(Debug, Serialize, ToSchema)]
pub struct Categories {
    categories: Vec<Category>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Category {
    name: String,
    /// How many listed products it has.
    count: i64,
}

/// The categories, each with how many products it has.
#[utoipa::path(
    get,
    path = "/categories",
    operation_id = "list_categories",
    tag = "catalog",
    params(MinPosition),
    responses(
        (status = 200, description = "Every category", body = Categories,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unavailable,
    )
)]
async fn categories(
    State(state): State<QueryState>,
    MinPosition(after): MinPosition,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(after);
    wait.for_view::<CatalogProduct>(&state.models).await;
    let categories = state.models.categories().await.map_err(unavailable)?;
    let categories = categories
        .into_iter()
        .map(|(name, count)| Category { name, count })
        .collect();
    Ok(wait.finish(Json(Categories { categories })))
}

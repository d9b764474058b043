//! `GET /products`, `GET /products/{id}`, `GET /categories`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use platform::auth::AuthUser;
use projectors::search::{Found, SearchQuery};
use projectors::store::query::CatalogSort;
use projectors::views::catalog::CatalogProduct;
use projectors::views::images::{ShownImage, ShownVariant};
use projectors::views::product_cache::ProductDetails;
use projectors::views::stock::Stock;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait};
use crate::error::ReadError;
use crate::openapi::{
    BadRequest, Forbidden, MoneyBody, NotFound, Unauthorized, Unavailable, Unprocessable,
};
use crate::params::{Paging, optional, path_id};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(show))
        .routes(routes!(categories))
        .routes(routes!(snapshot))
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
    /// First image first.
    images: Vec<ProductImage>,
}

/// An image of a product: `url`, `width` and `height` are its widest copy (about 960 px wide), served by the
/// shop with `Cache-Control: immutable`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProductImage {
    #[schema(format = Uuid)]
    id: String,
    #[schema(
        example = "/media/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08/960.jpg"
    )]
    url: String,
    width: u32,
    height: u32,
    /// What the image shows, for those who cannot see it.
    alt: String,
    /// Resized copies (JPEG, about 320 and 960 px wide, never wider than the original), narrowest first: a
    /// `srcset`.
    variants: Vec<ImageVariant>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageVariant {
    url: String,
    width: u32,
    height: u32,
}

impl From<&ShownImage> for ProductImage {
    fn from(image: &ShownImage) -> Self {
        let variant = |v: &ShownVariant| ImageVariant {
            url: v.url.clone(),
            width: v.width,
            height: v.height,
        };
        Self {
            id: image.id.clone(),
            url: image.url.clone(),
            width: image.width,
            height: image.height,
            alt: image.alt.clone(),
            variants: image.variants.iter().map(variant).collect(),
        }
    }
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
            images: p.images.iter().map(ProductImage::from).collect(),
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
            images: p.images.iter().map(ProductImage::from).collect(),
        }
    }
}

/// What to look for in the catalog.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogFilter {
    /// Words that must all match a word of the name, description, SKU or category, case- and
    /// accent-insensitive: exactly, with one typo in words of 5+ letters and two in words of 9+ (a
    /// transposition counts as one), or as a prefix for the last word. `blue shi` and `blue shrit` find
    /// "Blue Shirt". At most 200 characters and 10 words.
    #[param(max_length = 200)]
    q: Option<String>,
    category: Option<String>,
    /// In minor units, inclusive.
    #[param(value_type = Option<i64>)]
    min_price: Option<String>,
    /// In minor units, inclusive; not below `min_price`.
    #[param(value_type = Option<i64>)]
    max_price: Option<String>,
    /// Only products with units available (`true`) or only those without (`false`).
    #[param(value_type = Option<bool>)]
    in_stock: Option<String>,
    /// `relevance` (the default with `q`: an exact SKU first, then products whose name holds every word,
    /// then the rest, BM25 within each), `price_asc`, `price_desc`, `name` (the default without `q`) or
    /// `newest`.
    #[param(example = "price_asc")]
    sort: Option<String>,
}

impl CatalogFilter {
    fn sort(&self) -> Result<Option<CatalogSort>, ReadError> {
        Ok(match self.sort.as_deref() {
            None | Some("") => None,
            Some("relevance") => Some(CatalogSort::Relevance),
            Some("price_asc") => Some(CatalogSort::PriceAsc),
            Some("price_desc") => Some(CatalogSort::PriceDesc),
            Some("name") => Some(CatalogSort::Name),
            Some("newest") => Some(CatalogSort::Newest),
            Some(_) => {
                return Err(ReadError::parameter(
                    "sort",
                    "one of relevance, price_asc, price_desc, name, newest",
                ));
            }
        })
    }

    /// The search as the index runs it; a search it cannot answer as asked is 422.
    fn search(&self, page: u64, limit: u64) -> Result<SearchQuery, ReadError> {
        SearchQuery::new(
            self.q.as_deref(),
            self.category.clone(),
            optional(
                self.min_price.as_deref(),
                "min_price",
                "an amount in minor units",
            )?,
            optional(
                self.max_price.as_deref(),
                "max_price",
                "an amount in minor units",
            )?,
            optional(self.in_stock.as_deref(), "in_stock", "true or false")?,
            self.sort()?,
            page,
            limit,
        )
        .map_err(|error| {
            ReadError::Validation(BTreeMap::from([(
                error.parameter().to_owned(),
                error.to_string(),
            )]))
        })
    }
}

/// A page of the catalog, with the facets of the query.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogPage {
    items: Vec<Product>,
    /// This page's number, from 1.
    page: u64,
    limit: u64,
    /// Products matching the query and every filter, on all pages.
    total: u64,
    /// How many pages there are.
    pages: u64,
    facets: FacetsBody,
}

/// Counts for the current query; each facet counts the products matching `q` and every other filter, but
/// not its own.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Facets)]
pub struct FacetsBody {
    /// Most products first.
    categories: Vec<Category>,
    /// Non-empty price ranges, cheapest first.
    price: Vec<PriceRange>,
    /// How many are in stock.
    in_stock: u64,
}

/// Products priced in `[min, max)` major units of the catalog's currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct PriceRange {
    min: i64,
    /// Absent for the last range (250 and over).
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<i64>,
    count: u64,
}

impl CatalogPage {
    /// The page of `found` with `items`: [`render`] gives none and splices in each product's own rendering.
    fn of(found: &Found, items: Vec<Product>) -> Self {
        Self {
            items,
            page: found.page,
            limit: found.limit,
            total: found.total,
            pages: found.pages(),
            facets: FacetsBody {
                categories: found
                    .facets
                    .categories
                    .iter()
                    .map(|(name, count)| Category {
                        name: name.clone(),
                        count: *count as i64,
                    })
                    .collect(),
                price: found
                    .facets
                    .price
                    .iter()
                    .map(|b| PriceRange {
                        min: b.min,
                        max: b.max,
                        count: b.count,
                    })
                    .collect(),
                in_stock: found.facets.in_stock,
            },
        }
    }
}

/// Searches the catalog (this process's search index); discontinued products are not listed.
#[utoipa::path(
    get,
    path = "/products",
    operation_id = "list_products",
    tag = "catalog",
    params(CatalogFilter, Paging, MinPosition),
    responses(
        (status = 200, description = "A page of products and the facets of the query", body = CatalogPage,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unprocessable, Unavailable,
    )
)]
async fn list(
    State(state): State<QueryState>,
    MinPosition(after): MinPosition,
    Query(filter): Query<CatalogFilter>,
    Query(paging): Query<Paging>,
) -> Result<Response, ReadError> {
    let (page, limit) = paging.parse()?;
    let query = filter.search(page, limit)?;
    let mut wait = Wait::new(after);
    wait.for_catalog(&state.catalog).await;
    let found = state.catalog.search(&query)?;
    // A cached answer is sent as it was rendered the first time.
    let body = found.rendered(render);
    let json = [(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    )];
    Ok(wait.finish((json, body.to_vec())))
}

/// The page as JSON: the same bytes as the whole [`CatalogPage`] serialized, but each product is rendered once
/// per change of it and kept by the index (a product on many pages and in many answers is copied, not
/// serialized again): the page without items, with the products' renderings spliced into its empty list.
fn render(found: &Found) -> Vec<u8> {
    let page = CatalogPage::of(found, Vec::new());
    let items = found.items.iter().map(|shown| {
        shown.rendered(|product| {
            serde_json::to_string(&Product::from(product)).expect("a product serializes")
        })
    });
    spliced(&page, items)
}

/// `page` (with no items) serialized, with `items` (each a product's JSON) as its items.
fn spliced<'a>(page: &CatalogPage, items: impl Iterator<Item = &'a str>) -> Vec<u8> {
    // `items` is the first field: the page begins with an empty list that the products go into.
    const EMPTY: &[u8] = b"{\"items\":[]";
    let rest = serde_json::to_vec(page).expect("a catalog page serializes");
    debug_assert!(page.items.is_empty() && rest.starts_with(EMPTY));
    let mut body = Vec::with_capacity(rest.len() + 512 * page.limit as usize);
    body.extend_from_slice(&EMPTY[..EMPTY.len() - 1]);
    for (n, item) in items.enumerate() {
        if n > 0 {
            body.push(b',');
        }
        body.extend_from_slice(item.as_bytes());
    }
    body.extend_from_slice(&rest[EMPTY.len() - 1..]);
    body
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
) -> Result<Response, ReadError> {
    let id = path_id::<domain::ProductId>(&id)?;
    let mut wait = Wait::new(after);
    wait.for_view::<ProductDetails>(&state.models).await;
    wait.for_view::<Stock>(&state.models).await;
    let Some(product) = state.models.product(&id, after).await? else {
        return Err(ReadError::NotFound);
    };
    if product.details.discontinued {
        return Err(ReadError::NotFound);
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
) -> Result<Response, ReadError> {
    let mut wait = Wait::new(after);
    wait.for_catalog(&state.catalog).await;
    let mut categories: Vec<Category> = state
        .catalog
        .categories()?
        .into_iter()
        .map(|(name, count)| Category {
            name,
            count: count as i64,
        })
        .collect();
    categories.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(wait.finish(Json(Categories { categories })))
}

/// What this instance's catalog index serves at one feed position, whole.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = CatalogSnapshot)]
pub struct SnapshotBody {
    /// The feed position it serves.
    position: String,
    /// Every listed product, by id, as the index holds it.
    #[schema(value_type = Vec<Object>)]
    products: Vec<CatalogProduct>,
    /// The facets of the whole catalog: `categories` as `[name, count]` pairs, `price` ranges, `in_stock`.
    #[schema(value_type = Object)]
    facets: projectors::search::Facets,
}

/// How long a snapshot may wait for the index's runner (it answers between two catch-ups).
const SNAPSHOT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Everything this instance's catalog index serves, for `shop replay --projector catalog --verify`, which
/// compares it with an index it builds from the feed up to the same position (administrators).
#[utoipa::path(
    get,
    path = "/admin/catalog/snapshot",
    operation_id = "catalog_snapshot",
    tag = "catalog",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The listed documents and facets at the position served", body = SnapshotBody),
        Unauthorized, Forbidden, Unavailable,
    )
)]
async fn snapshot(
    State(state): State<QueryState>,
    user: AuthUser,
) -> Result<Json<SnapshotBody>, ReadError> {
    user.require_admin()?;
    let snapshot = tokio::time::timeout(SNAPSHOT_WAIT, state.catalog.snapshot())
        .await
        .ok()
        .flatten()
        .ok_or_else(|| ReadError::unavailable("catalog index", "it has not been built yet"))?;
    Ok(Json(SnapshotBody {
        position: snapshot.position.to_string(),
        products: snapshot.products,
        facets: snapshot.facets,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(n: u8) -> Product {
        Product {
            id: format!("0190c0de-0000-7000-8000-0000000000{n:02}"),
            sku: format!("SKU-\"{n}\""),
            name: format!("Blue \u{e9}mug {n}"),
            description: "A mug.\nWith a line break".to_owned(),
            category: "Kitchen".to_owned(),
            price: n
                .is_multiple_of(2)
                .then(|| MoneyBody::from(domain::Money::new(1250, domain::Currency::EUR).unwrap())),
            available: i64::from(n),
            in_stock: n > 0,
            created_at: None,
            updated_at: Some(Utc::now()),
            images: vec![],
        }
    }

    fn page(items: Vec<Product>) -> CatalogPage {
        CatalogPage {
            items,
            page: 2,
            limit: 20,
            total: 43,
            pages: 3,
            facets: FacetsBody {
                categories: vec![Category {
                    name: "Kitchen".to_owned(),
                    count: 43,
                }],
                price: vec![PriceRange {
                    min: 250,
                    max: None,
                    count: 1,
                }],
                in_stock: 40,
            },
        }
    }

    #[test]
    fn a_page_with_its_products_spliced_in_is_the_same_bytes_as_the_page_serialized_whole() {
        for count in [0, 1, 3] {
            let products: Vec<Product> = (0..count).map(product).collect();
            let rendered: Vec<String> = products
                .iter()
                .map(|p| serde_json::to_string(p).unwrap())
                .collect();
            let whole = serde_json::to_vec(&page(products)).unwrap();
            let spliced = spliced(&page(Vec::new()), rendered.iter().map(String::as_str));
            assert_eq!(
                String::from_utf8(spliced).unwrap(),
                String::from_utf8(whole).unwrap()
            );
        }
    }
}

//! The catalog, for administrators: create, edit, restock, discontinue.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use chrono::Utc;
use domain::product::{Product, ProductCommand};
use domain::{Currency, Money, ProductId, Sku};
use eventstore::claims::ClaimKind;
use platform::auth::AuthUser;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, IfMatch, RequestMeta, Written, WrittenBody, path_id};
use crate::openapi::{
    BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized,
    Unavailable, Unprocessable, UnsupportedMediaType,
};
use crate::state::CommandState;

pub fn router() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(update))
        .routes(routes!(adjust_stock))
        .routes(routes!(discontinue))
}

/// Money as it arrives in JSON, before it is checked.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MoneyInput {
    /// Minor units (cents); never negative.
    #[schema(example = 1999)]
    pub amount: i64,
    /// An ISO 4217 code.
    #[schema(example = "EUR")]
    pub currency: String,
}

impl MoneyInput {
    pub fn parse(&self) -> Result<Money, String> {
        let currency = Currency::parse(&self.currency)
            .map_err(|_| "currency must be an ISO 4217 code such as EUR".to_owned())?;
        Money::new(self.amount, currency).map_err(|_| "amount must not be negative".to_owned())
    }
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewProduct {
    /// 1 to 64 letters, digits, `-`, `_` or `.`; unique.
    #[schema(example = "TSHIRT-BLUE-M")]
    sku: String,
    #[schema(example = "Blue Shirt")]
    name: String,
    #[serde(default)]
    description: String,
    #[schema(example = "Shirts")]
    category: String,
    price: MoneyInput,
    /// Units on hand to start with.
    #[serde(default)]
    #[schema(minimum = 0)]
    stock: i64,
}

/// Adds a product to the catalog (administrators).
#[utoipa::path(
    post,
    path = "/products",
    operation_id = "create_product",
    tag = "catalog",
    security(("bearer" = [])),
    request_body = NewProduct,
    responses(
        (status = 201, description = "The product exists", body = WrittenBody,
            headers(("ETag" = String, description = "The product's version"))),
        BadRequest, Unauthorized, Forbidden, Conflict, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]
async fn create(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    AppJson(body): AppJson<NewProduct>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let mut errors = BTreeMap::new();
    let sku = Sku::parse(&body.sku)
        .map_err(|_| {
            errors.insert(
                "sku".to_owned(),
                "must be 1 to 64 letters, digits, '-', '_' or '.'".to_owned(),
            )
        })
        .ok();
    let price = body
        .price
        .parse()
        .map_err(|message| errors.insert("price".to_owned(), message))
        .ok();
    let stock = u32::try_from(body.stock)
        .map_err(|_| errors.insert("stock".to_owned(), "must be zero or more".to_owned()))
        .ok();
    let (Some(sku), Some(price), Some(stock)) = (sku, price, stock) else {
        return Err(ApiError::Validation(errors));
    };

    let product_id = ProductId::new(Uuid::now_v7());
    let id = product_id.to_string();
    let command = ProductCommand::Create {
        product_id,
        sku: sku.clone(),
        name: body.name,
        description: body.description,
        category: body.category,
        price,
        stock,
        at: Utc::now(),
    };
    // The SKU's claim commits with `ProductCreated`, or neither does.
    let metadata = meta.by(&user).answering(201, &id);
    let mut unit = state.bus.unit(&metadata);
    unit.claim(ClaimKind::Sku, sku.as_str(), &id);
    unit.decide::<Product>(&id, command, None).await?;
    let mut executed = unit.commit().await?;
    Ok(Written::created(product_id, executed.remove(0)))
}

/// The fields to change; those left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
struct Changes {
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    price: Option<MoneyInput>,
}

/// Edits a product's details (administrators).
#[utoipa::path(
    patch,
    path = "/products/{id}",
    operation_id = "update_product",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The product"), IfMatch),
    request_body = Changes,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The product's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, Unavailable,
    )
)]
async fn update(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
    AppJson(body): AppJson<Changes>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let product_id: ProductId = path_id(&id)?;
    let price = match body.price.as_ref().map(MoneyInput::parse) {
        Some(Err(message)) => return Err(ApiError::field("price", message)),
        Some(Ok(price)) => Some(price),
        None => None,
    };
    let command = ProductCommand::UpdateDetails {
        name: body.name,
        description: body.description,
        category: body.category,
        price,
        at: Utc::now(),
    };
    let id = product_id.to_string();
    state
        .accept::<Product>(&id, command, &meta.by(&user), version)
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
struct StockChange {
    /// Units to add (a restock, > 0) or to write off (< 0).
    #[schema(example = 25)]
    delta: i64,
}

/// Restocks or writes off units (administrators). On hand may not fall below what is reserved.
#[utoipa::path(
    post,
    path = "/products/{id}/stock",
    operation_id = "adjust_stock",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The product"), IfMatch),
    request_body = StockChange,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The product's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, PayloadTooLarge,
        UnsupportedMediaType, Unprocessable, Unavailable,
    )
)]
async fn adjust_stock(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
    AppJson(body): AppJson<StockChange>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let product_id: ProductId = path_id(&id)?;
    let id = product_id.to_string();
    let command = ProductCommand::AdjustStock {
        delta: body.delta,
        at: Utc::now(),
    };
    state
        .accept::<Product>(&id, command, &meta.by(&user), version)
        .await
}

/// Takes a product off the catalog for good (administrators): no longer listed or addable to a cart.
#[utoipa::path(
    post,
    path = "/products/{id}/discontinue",
    operation_id = "discontinue_product",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The product"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The product's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
async fn discontinue(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let product_id: ProductId = path_id(&id)?;
    let id = product_id.to_string();
    let command = ProductCommand::Discontinue { at: Utc::now() };
    state
        .accept::<Product>(&id, command, &meta.by(&user), version)
        .await
}

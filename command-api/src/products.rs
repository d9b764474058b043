//! The catalog, for administrators: create, edit, restock, discontinue.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use chrono::Utc;
use domain::product::{Product, ProductCommand};
use domain::{Currency, Money, ProductId, Sku};
use eventstore::ClaimError;
use eventstore::claims::ClaimKind;
use platform::auth::AuthUser;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, IfMatch, RequestMeta, Written, path_id};
use crate::state::CommandState;

pub fn router() -> Router<CommandState> {
    Router::new()
        .route("/products", post(create))
        .route("/products/{id}", patch(update))
        .route("/products/{id}/stock", post(adjust_stock))
        .route("/products/{id}/discontinue", post(discontinue))
}

/// Money as it arrives in JSON, before it is checked.
#[derive(Debug, Clone, Deserialize)]
pub struct MoneyInput {
    pub amount: i64,
    pub currency: String,
}

impl MoneyInput {
    pub fn parse(&self) -> Result<Money, String> {
        let currency = Currency::parse(&self.currency)
            .map_err(|_| "currency must be an ISO 4217 code such as EUR".to_owned())?;
        Money::new(self.amount, currency).map_err(|_| "amount must not be negative".to_owned())
    }
}

#[derive(Debug, Deserialize)]
struct NewProduct {
    sku: String,
    name: String,
    #[serde(default)]
    description: String,
    category: String,
    price: MoneyInput,
    #[serde(default)]
    stock: i64,
}

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
    match state.claims.claim(ClaimKind::Sku, sku.as_str(), &id).await {
        Ok(()) => {}
        Err(ClaimError::Taken) => {
            return Err(ApiError::refused(
                StatusCode::CONFLICT,
                "sku_taken",
                format!("A product with SKU {sku} already exists."),
            ));
        }
        Err(ClaimError::Database(e)) => return Err(e.into()),
    }
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
    let result = state
        .bus
        .execute::<Product>(&id, command, &meta.by(&user), None)
        .await;
    if result.is_err()
        && let Err(e) = state
            .claims
            .release(ClaimKind::Sku, sku.as_str(), &id)
            .await
    {
        tracing::error!(error = %e, "could not release a SKU claim");
    }
    Ok(Written::created(product_id, result?))
}

#[derive(Debug, Deserialize)]
struct Changes {
    name: Option<String>,
    description: Option<String>,
    category: Option<String>,
    price: Option<MoneyInput>,
}

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

#[derive(Debug, Deserialize)]
struct StockChange {
    delta: i64,
}

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

//! The caller's cart (its aggregate id is the user id) and checkout.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use chrono::Utc;
use domain::cart::{Cart, CartCommand, CartLine, ProductSnapshot};
use domain::order::{Order, OrderCommand, OrderLine};
use domain::ports::TEST_CARDS;
use domain::product::Product;
use domain::{Address, OrderId, PaymentMethod, ProductId, Quantity, UserId};
use eventstore::CommandMetadata;
use platform::auth::AuthUser;
use serde::Deserialize;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, IfMatch, RequestMeta, Written, path_id};
use crate::state::CommandState;

pub fn router() -> Router<CommandState> {
    Router::new()
        .route("/cart/items", post(add_item))
        .route(
            "/cart/items/{product_id}",
            put(change_quantity).delete(remove_item),
        )
        .route("/cart/checkout", post(checkout))
}

#[derive(Debug, Deserialize)]
struct NewItem {
    product_id: String,
    quantity: i64,
}

async fn add_item(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    AppJson(body): AppJson<NewItem>,
) -> Result<Written, ApiError> {
    let quantity = Quantity::new(body.quantity)
        .map_err(|_| ApiError::field("quantity", "must be between 1 and 99"))?;
    let product_id: ProductId = body
        .product_id
        .parse()
        .map_err(|_| ApiError::field("product_id", "must be a product id"))?;
    let product = catalog_entry(&state, product_id).await?;
    let command = CartCommand::AddItem {
        product,
        quantity,
        at: Utc::now(),
    };
    state
        .accept::<Cart>(&user.user_id, command, &meta.by(&user), version)
        .await
}

/// What the cart needs to know about a product now; an unknown product is refused with 422.
async fn catalog_entry(
    state: &CommandState,
    product_id: ProductId,
) -> Result<ProductSnapshot, ApiError> {
    let (product, _) = state.bus.load::<Product>(&product_id.to_string()).await?;
    let unknown = || {
        ApiError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_product",
            format!("There is no product {product_id}."),
        )
    };
    let (true, Some(sku), Some(unit_price)) = (product.exists(), product.sku(), product.price())
    else {
        return Err(unknown());
    };
    let name = product.name();
    Ok(ProductSnapshot {
        product_id,
        sku: sku.clone(),
        name: name.to_owned(),
        unit_price,
        discontinued: product.is_discontinued(),
    })
}

#[derive(Debug, Deserialize)]
struct NewQuantity {
    quantity: i64,
}

async fn change_quantity(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(product_id): Path<String>,
    AppJson(body): AppJson<NewQuantity>,
) -> Result<Written, ApiError> {
    let product_id: ProductId = path_id(&product_id)?;
    let quantity = u32::try_from(body.quantity)
        .map_err(|_| ApiError::field("quantity", "must be between 0 and 99"))?;
    let command = CartCommand::ChangeQuantity {
        product_id,
        quantity,
        at: Utc::now(),
    };
    state
        .accept::<Cart>(&user.user_id, command, &meta.by(&user), version)
        .await
}

async fn remove_item(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(product_id): Path<String>,
) -> Result<Written, ApiError> {
    let product_id: ProductId = path_id(&product_id)?;
    let command = CartCommand::RemoveItem {
        product_id,
        at: Utc::now(),
    };
    state
        .accept::<Cart>(&user.user_id, command, &meta.by(&user), version)
        .await
}

#[derive(Debug, Default, Deserialize)]
struct AddressInput {
    #[serde(default)]
    name: String,
    #[serde(default)]
    line1: String,
    line2: Option<String>,
    #[serde(default)]
    city: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    country: String,
}

#[derive(Debug, Deserialize)]
struct Checkout {
    #[serde(default)]
    shipping_address: AddressInput,
    #[serde(default)]
    payment_method: String,
}

impl Checkout {
    fn parse(&self) -> Result<(Address, PaymentMethod), ApiError> {
        let a = &self.shipping_address;
        let mut errors = BTreeMap::new();
        let address = Address::parse(
            &a.name,
            &a.line1,
            a.line2.as_deref(),
            &a.city,
            &a.postal_code,
            &a.country,
        )
        .map_err(|problems| {
            for (field, message) in problems {
                errors.insert(format!("shipping_address.{field}"), message);
            }
        })
        .ok();
        let method = PaymentMethod::parse(&self.payment_method)
            .ok()
            .filter(|m| TEST_CARDS.contains(&m.as_str()));
        if method.is_none() {
            errors.insert(
                "payment_method".to_owned(),
                format!("must be one of {}", TEST_CARDS.join(", ")),
            );
        }
        match (address, method) {
            (Some(address), Some(method)) if errors.is_empty() => Ok((address, method)),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

/// Turns the cart into a `pending` order at current prices. The cart is checked out first, at the version
/// the lines were read from, so a concurrent change answers 409 instead of ordering something else; the saga
/// takes the order from there.
async fn checkout(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    AppJson(body): AppJson<Checkout>,
) -> Result<Written, ApiError> {
    let (address, method) = body.parse()?;
    let user_id: UserId = path_id(&user.user_id)?;
    let (cart, version) = state.bus.load::<Cart>(&user.user_id).await?;
    if cart.lines().is_empty() {
        return Err(ApiError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_cart",
            "The cart is empty.",
        ));
    }
    let mut lines = Vec::with_capacity(cart.lines().len());
    for line in cart.lines() {
        lines.push(order_line(&state, line).await?);
    }
    let order_id = OrderId::new(Uuid::now_v7());
    let metadata = meta.by(&user);
    let check_out = CartCommand::CheckOut {
        order_id,
        at: Utc::now(),
    };
    state
        .bus
        .execute::<Cart>(&user.user_id, check_out, &metadata, Some(version))
        .await
        .map_err(|e| match e {
            eventstore::BusError::VersionMismatch { .. } => ApiError::refused(
                StatusCode::CONFLICT,
                "cart_changed",
                "The cart changed during checkout; review it and check out again.",
            ),
            other => other.into(),
        })?;
    let place = OrderCommand::Place {
        order_id,
        user_id,
        lines,
        shipping_address: address,
        payment_method: method,
        at: Utc::now(),
    };
    let id = order_id.to_string();
    match state
        .bus
        .execute::<Order>(&id, place, &metadata, None)
        .await
    {
        Ok(executed) => Ok(Written::accepted(order_id, executed)),
        Err(error) => {
            tracing::error!(%order_id, %error, "placing a checked-out order failed; restoring the cart");
            restore_cart(&state, &user.user_id, cart.lines(), &metadata).await;
            Err(error.into())
        }
    }
}

/// A cart line at the product's current price; a product gone or discontinued since it was added is refused.
async fn order_line(state: &CommandState, line: &CartLine) -> Result<OrderLine, ApiError> {
    let entry = catalog_entry(state, line.product_id).await?;
    if entry.discontinued {
        return Err(ApiError::refused(
            StatusCode::UNPROCESSABLE_ENTITY,
            "product_discontinued",
            format!("{} is no longer sold; remove it from the cart.", entry.name),
        ));
    }
    let quantity = Quantity::new(i64::from(line.quantity)).map_err(|e| ApiError::rule(&e))?;
    OrderLine::new(
        entry.product_id,
        entry.sku,
        entry.name,
        entry.unit_price,
        quantity,
    )
    .map_err(|e| ApiError::rule(&e))
}

async fn restore_cart(
    state: &CommandState,
    cart_id: &str,
    lines: &[CartLine],
    metadata: &CommandMetadata,
) {
    for line in lines {
        let Ok(quantity) = Quantity::new(i64::from(line.quantity)) else {
            continue;
        };
        let command = CartCommand::AddItem {
            product: ProductSnapshot {
                product_id: line.product_id,
                sku: line.sku.clone(),
                name: line.name.clone(),
                unit_price: line.unit_price,
                discontinued: false,
            },
            quantity,
            at: Utc::now(),
        };
        if let Err(error) = state
            .bus
            .execute::<Cart>(cart_id, command, metadata, None)
            .await
        {
            tracing::error!(%error, cart_id, "could not restore a cart line");
        }
    }
}

//! The caller's cart (its aggregate id is the user id) and checkout.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::ports::TEST_CARDS;
use domain::{Address, OrderId, PaymentMethod, ProductId, Quantity};
use platform::ProblemCode;
use platform::auth::AuthUser;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, IfMatch, RequestMeta, Written, WrittenBody, path_id};
use crate::openapi::{
    BadRequest, Conflict, NotFound, PayloadTooLarge, PreconditionFailed, Unauthorized, Unavailable,
    Unprocessable, UnsupportedMediaType,
};
use crate::state::CommandState;
use crate::usecases::catalog::{self, LookupError};
use crate::usecases::checkout::{self, CheckOut, CheckoutError};
use crate::usecases::discount::{self, ApplyError};

pub fn router() -> OpenApiRouter<CommandState> {
    OpenApiRouter::new()
        .routes(routes!(add_item))
        .routes(routes!(change_quantity, remove_item))
        .routes(routes!(apply_discount, remove_discount))
        .routes(routes!(checkout))
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewItem {
    #[schema(format = Uuid)]
    product_id: String,
    /// Added to any quantity already in the cart; a line holds at most 99.
    #[schema(minimum = 1, maximum = 99, example = 2)]
    quantity: i64,
}

/// Puts a product in the caller's cart. An unknown or discontinued product is refused (422).
#[utoipa::path(
    post,
    path = "/cart/items",
    operation_id = "add_cart_item",
    tag = "cart",
    security(("bearer" = [])),
    params(IfMatch),
    request_body = NewItem,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The cart's new version"))),
        BadRequest, Unauthorized, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]
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
    match catalog::snapshot(&state.bus, product_id).await {
        Ok(snapshot) => Ok(snapshot),
        Err(LookupError::Unknown(id)) => Err(unknown_product(id)),
        Err(LookupError::Store(error)) => Err(error.into()),
    }
}

fn unknown_product(product_id: ProductId) -> ApiError {
    ApiError::refused(
        StatusCode::UNPROCESSABLE_ENTITY,
        ProblemCode::UnknownProduct,
        format!("There is no product {product_id}."),
    )
}

#[derive(Debug, Deserialize, ToSchema)]
struct NewQuantity {
    /// 0 removes the line.
    #[schema(minimum = 0, maximum = 99, example = 3)]
    quantity: i64,
}

/// Sets the quantity of a line in the caller's cart; 0 removes it.
#[utoipa::path(
    put,
    path = "/cart/items/{product_id}",
    operation_id = "change_cart_item",
    tag = "cart",
    security(("bearer" = [])),
    params(("product_id" = String, Path, format = Uuid, description = "The product of the line"), IfMatch),
    request_body = NewQuantity,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The cart's new version"))),
        BadRequest, Unauthorized, NotFound, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]
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

/// Removes a line from the caller's cart.
#[utoipa::path(
    delete,
    path = "/cart/items/{product_id}",
    operation_id = "remove_cart_item",
    tag = "cart",
    security(("bearer" = [])),
    params(("product_id" = String, Path, format = Uuid, description = "The product of the line"), IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The cart's new version"))),
        BadRequest, Unauthorized, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
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

#[derive(Debug, Deserialize, ToSchema)]
struct ApplyDiscount {
    /// As the customer typed it; case does not matter.
    #[schema(example = "SPRING10")]
    code: String,
}

/// Applies a discount code to the caller's cart, replacing any code applied before. The code is checked
/// now against its promotion and the cart's lines (422 with the reason: unknown, paused, ended, not valid
/// yet, expired, used up, below its minimum or not applicable), and again at checkout.
#[utoipa::path(
    post,
    path = "/cart/discount",
    operation_id = "apply_cart_discount",
    tag = "cart",
    security(("bearer" = [])),
    params(IfMatch),
    request_body = ApplyDiscount,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The cart's new version"))),
        BadRequest, Unauthorized, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]
async fn apply_discount(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    AppJson(body): AppJson<ApplyDiscount>,
) -> Result<Written, ApiError> {
    let user_id = path_id(&user.user_id)?;
    let metadata = meta.by(&user);
    let executed = discount::apply(
        &state.bus,
        &state.claims,
        user_id,
        &body.code,
        &metadata,
        version,
    )
    .await?;
    Ok(Written::accepted(&user.user_id, executed))
}

/// Removes the discount code from the caller's cart (202 also when there was none).
#[utoipa::path(
    delete,
    path = "/cart/discount",
    operation_id = "remove_cart_discount",
    tag = "cart",
    security(("bearer" = [])),
    params(IfMatch),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The cart's new version"))),
        BadRequest, Unauthorized, PreconditionFailed, Unavailable,
    )
)]
async fn remove_discount(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
) -> Result<Written, ApiError> {
    let command = CartCommand::RemoveDiscount { at: Utc::now() };
    state
        .accept::<Cart>(&user.user_id, command, &meta.by(&user), version)
        .await
}

impl From<ApplyError> for ApiError {
    fn from(error: ApplyError) -> Self {
        match error {
            ApplyError::EmptyCart => ApiError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::EmptyCart,
                "Add something to the cart before applying a discount code.",
            ),
            ApplyError::Code(refusal) => ApiError::rule(&refusal),
            ApplyError::Lines(refusal) => ApiError::rule(&refusal),
            ApplyError::Line(error) => error.into(),
            ApplyError::Cart(error) => error.into(),
            ApplyError::Promotion(error) => error.into(),
            ApplyError::Claims(error) => error.into(),
        }
    }
}

/// Where an order goes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[schema(as = ShippingAddress)]
struct AddressInput {
    #[serde(default)]
    #[schema(required = true, example = "Ada Lovelace")]
    name: String,
    #[serde(default)]
    #[schema(required = true, example = "12 St James's Square")]
    line1: String,
    line2: Option<String>,
    #[serde(default)]
    #[schema(required = true, example = "London")]
    city: String,
    #[serde(default)]
    #[schema(required = true, example = "SW1Y 4JH")]
    postal_code: String,
    /// An ISO 3166-1 alpha-2 code.
    #[serde(default)]
    #[schema(required = true, example = "GB")]
    country: String,
}

#[derive(Debug, Deserialize, ToSchema)]
struct Checkout {
    #[serde(default)]
    #[schema(required = true)]
    shipping_address: AddressInput,
    /// A payment-method token. With the simulated gateway: `pm_card_visa` and `pm_card_mastercard`
    /// succeed, `pm_card_declined` and `pm_card_insufficient_funds` are declined, `pm_card_slow` answers
    /// after 3 s, `pm_card_flaky` fails twice and then succeeds.
    #[serde(default)]
    #[schema(required = true, example = "pm_card_visa")]
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

/// Turns the caller's cart into a `pending` order at current prices, and empties the cart.
///
/// The cart is checked out at the version its lines were read from, so a concurrent change answers 409
/// instead of ordering something else. The order then becomes `confirmed` or `cancelled` within seconds.
///
/// The cart's `CartCheckedOut` and the order's `OrderPlaced` commit in one transaction (a `Unit`): a crash
/// leaves either both or neither, never a checked-out cart without its order (docs/adr/0012). A cart with a
/// discount code also holds one of its redemptions in that transaction; a code no longer usable (used up,
/// paused, expired...) answers 422 with the reason, and nothing is written (docs/adr/0019).
#[utoipa::path(
    post,
    path = "/cart/checkout",
    operation_id = "check_out",
    tag = "cart",
    security(("bearer" = [])),
    request_body = Checkout,
    responses(
        (status = 202, description = "The order is `pending`; `id` is the order's", body = WrittenBody,
            headers(("ETag" = String, description = "The order's version"))),
        BadRequest, Unauthorized, Conflict, PayloadTooLarge, UnsupportedMediaType, Unprocessable,
        Unavailable,
    )
)]
async fn checkout(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    AppJson(body): AppJson<Checkout>,
) -> Result<Written, ApiError> {
    let (address, method) = body.parse()?;
    let order_id = OrderId::new(Uuid::now_v7());
    let checkout = CheckOut {
        user_id: path_id(&user.user_id)?,
        order_id,
        shipping_address: address,
        payment_method: method,
    };
    let metadata = meta.by(&user).answering(202, order_id);
    let placed = checkout::check_out(&state.bus, checkout, &metadata).await?;
    Ok(Written::accepted(order_id, placed))
}

impl From<CheckoutError> for ApiError {
    fn from(error: CheckoutError) -> Self {
        match error {
            CheckoutError::EmptyCart => ApiError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::EmptyCart,
                "The cart is empty.",
            ),
            CheckoutError::UnknownProduct(id) => unknown_product(id),
            CheckoutError::Discontinued { name } => ApiError::refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::ProductDiscontinued,
                format!("{name} is no longer sold; remove it from the cart."),
            ),
            CheckoutError::Line(error) => ApiError::rule(&error),
            // Another request changed the cart after it was read: order nothing the customer did not see.
            CheckoutError::CartChanged => cart_changed(),
            CheckoutError::Cart(error) => error.into(),
            CheckoutError::Order(error) => error.into(),
            CheckoutError::Product(error) => error.into(),
            CheckoutError::Promotion(error) => error.into(),
            CheckoutError::Commit(error) => error.into(),
        }
    }
}

fn cart_changed() -> ApiError {
    ApiError::refused(
        StatusCode::CONFLICT,
        ProblemCode::CartChanged,
        "The cart changed during checkout; review it and check out again.",
    )
}

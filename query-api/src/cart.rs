//! `GET /cart`: the caller's lines at current prices.

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use platform::Problem;
use platform::auth::AuthUser;
use projectors::views::carts::CartView;
use projectors::views::product_cache::ProductDetails;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::consistency::{MinPosition, Wait, unavailable};
use crate::openapi::{BadRequest, MoneyBody, Unauthorized, Unavailable};
use crate::state::QueryState;

pub fn router() -> OpenApiRouter<QueryState> {
    OpenApiRouter::new().routes(routes!(show))
}

/// The caller's cart at current prices.
#[derive(Debug, Serialize, ToSchema)]
pub struct Cart {
    items: Vec<CartItem>,
    /// `null` while the cart is empty.
    total: Option<MoneyBody>,
    /// Units in all lines.
    item_count: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CartItem {
    #[schema(format = Uuid)]
    product_id: String,
    sku: String,
    name: String,
    unit_price: MoneyBody,
    quantity: u32,
    line_total: MoneyBody,
    /// `false` once the product is discontinued: checkout refuses it until the line is removed.
    available: bool,
}

/// The caller's cart, each line at the product's current price.
#[utoipa::path(
    get,
    path = "/cart",
    operation_id = "get_cart",
    tag = "cart",
    security(("bearer" = [])),
    params(MinPosition),
    responses(
        (status = 200, description = "The cart", body = Cart,
            headers(("X-Read-Model-Stale" = bool, description = "`true` when `X-Min-Position` was not reached in 5 s"))),
        BadRequest, Unauthorized, Unavailable,
    )
)]
async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    MinPosition(after): MinPosition,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(after);
    wait.for_view::<CartView>(&state.models).await;
    wait.for_view::<ProductDetails>(&state.models).await;
    let (cart, products) = state
        .models
        .cart(&user.user_id, after)
        .await
        .map_err(unavailable)?;
    let mut items = Vec::with_capacity(cart.lines.len());
    let mut total: Option<MoneyBody> = None;
    let mut item_count = 0;
    for line in &cart.lines {
        // A product the read model does not know yet is left out rather than shown without a price.
        let Some(product) = products.get(&line.product_id) else {
            continue;
        };
        let Some(price) = product.price else { continue };
        let unit_price = MoneyBody::from(price);
        let line_total = MoneyBody {
            amount: unit_price.amount * i64::from(line.quantity),
            currency: unit_price.currency.clone(),
        };
        total
            .get_or_insert_with(|| MoneyBody {
                amount: 0,
                currency: line_total.currency.clone(),
            })
            .amount += line_total.amount;
        item_count += line.quantity;
        items.push(CartItem {
            product_id: line.product_id.clone(),
            sku: product.sku.clone(),
            name: product.name.clone(),
            unit_price,
            quantity: line.quantity,
            line_total,
            available: !product.discontinued,
        });
    }
    Ok(wait.finish(Json(Cart {
        items,
        total,
        item_count,
    })))
}

//! `GET /cart`: the caller's lines at current prices.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use platform::Problem;
use platform::auth::AuthUser;
use projectors::views::carts::CartView;
use projectors::views::product_cache::ProductDetails;
use serde_json::{Value, json};

use crate::consistency::{Wait, min_position, unavailable};
use crate::params::Params;
use crate::state::QueryState;

pub fn router() -> Router<QueryState> {
    Router::new().route("/cart", get(show))
}

async fn show(
    State(state): State<QueryState>,
    user: AuthUser,
    headers: HeaderMap,
    Query(params): Query<Params>,
) -> Result<Response, Problem> {
    let mut wait = Wait::new(min_position(&headers, &params)?);
    wait.for_view::<CartView>(&state.models).await;
    wait.for_view::<ProductDetails>(&state.models).await;
    let (cart, products) = state
        .models
        .cart(&user.user_id)
        .await
        .map_err(unavailable)?;
    let mut items = Vec::with_capacity(cart.lines.len());
    let mut total: Option<(i64, String)> = None;
    let mut item_count = 0;
    for line in &cart.lines {
        // A product the read model does not know yet is left out rather than shown without a price.
        let Some(product) = products.get(&line.product_id) else {
            continue;
        };
        let Some(price) = product.price else { continue };
        let line_total = price.amount() * i64::from(line.quantity);
        let currency = price.currency().to_string();
        let sum = total.get_or_insert((0, currency.clone()));
        sum.0 += line_total;
        item_count += line.quantity;
        items.push(json!({
            "product_id": line.product_id, "sku": product.sku, "name": product.name,
            "unit_price": price, "quantity": line.quantity,
            "line_total": {"amount": line_total, "currency": currency},
            "available": !product.discontinued,
        }));
    }
    let total: Value = match total {
        Some((amount, currency)) => json!({"amount": amount, "currency": currency}),
        None => Value::Null,
    };
    Ok(wait.finish(Json(
        json!({"items": items, "total": total, "item_count": item_count}),
    )))
}

//! A product as a cart line or an order line sees it, read from its aggregate.

use domain::ProductId;
use domain::cart::ProductSnapshot;
use domain::product::{Product, ProductError};
use eventstore::{BusError, CommandBus};

/// Why a product could not be read for a line.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No such product, or one without a SKU or a price yet.
    #[error("there is no product {0}")]
    Unknown(ProductId),
    #[error(transparent)]
    Store(#[from] BusError<ProductError>),
}

/// The product's SKU, name, current price and whether it is discontinued.
pub async fn snapshot(
    bus: &CommandBus,
    product_id: ProductId,
) -> Result<ProductSnapshot, LookupError> {
    entry(bus, product_id).await.map(|entry| entry.product)
}

/// A product as a line sees it, with its category (which decides whether a discount code applies to it).
#[derive(Debug, Clone)]
pub struct Entry {
    pub product: ProductSnapshot,
    pub category: String,
}

/// The product's [`Entry`].
pub async fn entry(bus: &CommandBus, product_id: ProductId) -> Result<Entry, LookupError> {
    let (product, _) = bus.load::<Product>(&product_id.to_string()).await?;
    let (true, Some(sku), Some(unit_price)) = (product.exists(), product.sku(), product.price())
    else {
        return Err(LookupError::Unknown(product_id));
    };
    Ok(Entry {
        product: ProductSnapshot {
            product_id,
            sku: sku.clone(),
            name: product.name().to_owned(),
            unit_price,
            discontinued: product.is_discontinued(),
        },
        category: product.category().to_owned(),
    })
}

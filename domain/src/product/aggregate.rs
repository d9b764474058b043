use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::images::{MAX_IMAGES, valid_alt};
use super::{ProductCommand, ProductError, ProductEvent, ProductImage, ReleaseReason};
use crate::values::text;
use crate::{ImageId, Money, OrderId, ProductId, Sku};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_DESCRIPTION_CHARS: usize = 5000;
pub const MAX_CATEGORY_CHARS: usize = 100;

/// A catalog entry and its stock.
///
/// `on_hand` counts units in the warehouse; Held reservations are promised to orders but not
/// yet shipped, so what can still be sold is `available() = on_hand - reserved()`.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct Product {
    /// Whether `ProductCreated` happened; every other command needs it.
    created: bool,
    id: Option<ProductId>,
    sku: Option<Sku>,
    name: String,
    description: String,
    category: String,
    price: Option<Money>,
    on_hand: u32,
    /// Every reservation ever made, kept after commit or release so retries stay idempotent.
    reservations: BTreeMap<OrderId, Reservation>,
    /// Discontinued products keep their stock and reservations but take no new ones.
    discontinued: bool,
    /// Shown in this order, the first on catalog cards.
    #[serde(default)]
    images: Vec<ProductImage>,
}

/// Units of this product held for one order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reservation {
    pub quantity: u32,
    /// After this, a sweeper may release the hold if the order never got confirmed.
    pub expires_at: DateTime<Utc>,
    pub state: ReservationState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReservationState {
    /// Counted in `reserved()`, still part of `on_hand`.
    Held,
    /// Taken out of `on_hand`: the units belong to the order now.
    Committed,
    /// Given back; no longer counted anywhere.
    Released,
}

impl Product {
    pub fn exists(&self) -> bool {
        self.created
    }

    pub fn is_discontinued(&self) -> bool {
        self.discontinued
    }

    pub fn id(&self) -> Option<ProductId> {
        self.id
    }

    pub fn sku(&self) -> Option<&Sku> {
        self.sku.as_ref()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    pub fn category(&self) -> &str {
        &self.category
    }

    pub fn price(&self) -> Option<Money> {
        self.price
    }

    pub fn on_hand(&self) -> u32 {
        self.on_hand
    }

    /// Units held for orders that are not yet confirmed.
    pub fn reserved(&self) -> u32 {
        self.reservations
            .values()
            .filter(|r| r.state == ReservationState::Held)
            .fold(0, |sum, r| sum.saturating_add(r.quantity))
    }

    /// Units that can still be reserved.
    pub fn available(&self) -> u32 {
        self.on_hand.saturating_sub(self.reserved())
    }

    pub fn reservation(&self, order_id: OrderId) -> Option<&Reservation> {
        self.reservations.get(&order_id)
    }

    pub fn reservations(&self) -> &BTreeMap<OrderId, Reservation> {
        &self.reservations
    }

    pub fn images(&self) -> &[ProductImage] {
        &self.images
    }

    /// The events `command` leads to, or the rule it breaks.
    fn decide(&self, command: ProductCommand) -> Result<Vec<ProductEvent>, ProductError> {
        match command {
            ProductCommand::Create {
                product_id,
                sku,
                name,
                description,
                category,
                price,
                stock,
                at,
            } => {
                if self.created {
                    return Err(ProductError::AlreadyCreated);
                }
                Ok(vec![ProductEvent::ProductCreated {
                    product_id,
                    sku,
                    name: valid_name(&name)?,
                    description: valid_description(&description)?,
                    category: valid_category(&category)?,
                    price,
                    stock,
                    created_at: at,
                }])
            }
            _ if !self.created => Err(ProductError::NotFound),
            ProductCommand::UpdateDetails {
                name,
                description,
                category,
                price,
                at,
            } => self.update_details(name, description, category, price, at),
            ProductCommand::AdjustStock { delta, at } => self.adjust_stock(delta, at),
            ProductCommand::Discontinue { at } => {
                if self.discontinued {
                    return Err(ProductError::AlreadyDiscontinued);
                }
                Ok(vec![ProductEvent::ProductDiscontinued {
                    discontinued_at: at,
                }])
            }
            ProductCommand::Reserve {
                order_id,
                quantity,
                expires_at,
                at,
            } => {
                let quantity = quantity.get();
                if let Some(existing) = self.reservations.get(&order_id) {
                    // A retried reservation is answered as if it had just succeeded.
                    if existing.state == ReservationState::Held && existing.quantity == quantity {
                        return Ok(vec![]);
                    }
                    return Err(ProductError::ReservationExists);
                }
                if self.discontinued {
                    return Err(ProductError::Discontinued);
                }
                let available = self.available();
                if quantity > available {
                    return Err(ProductError::OutOfStock {
                        requested: quantity,
                        available,
                    });
                }
                Ok(vec![ProductEvent::StockReserved {
                    order_id,
                    quantity,
                    expires_at,
                    available: available - quantity,
                    reserved_at: at,
                }])
            }
            ProductCommand::CommitReservation { order_id, at } => {
                let reservation = self
                    .reservations
                    .get(&order_id)
                    .ok_or(ProductError::NoSuchReservation)?;
                match reservation.state {
                    ReservationState::Committed => Ok(vec![]),
                    ReservationState::Released => Err(ProductError::ReservationReleased),
                    // The units leave both `on_hand` and `reserved`, so `available` is unchanged.
                    ReservationState::Held => Ok(vec![ProductEvent::ReservationCommitted {
                        order_id,
                        quantity: reservation.quantity,
                        on_hand: self.on_hand.saturating_sub(reservation.quantity),
                        available: self.available(),
                        committed_at: at,
                    }]),
                }
            }
            ProductCommand::ReleaseReservation {
                order_id,
                reason,
                at,
            } => match self.reservations.get(&order_id) {
                Some(reservation) if reservation.state != ReservationState::Released => {
                    Ok(vec![self.release(order_id, reservation, reason, at)])
                }
                _ => Ok(vec![]),
            },
            ProductCommand::ExpireReservation { order_id, now } => {
                match self.reservations.get(&order_id) {
                    Some(reservation) if reservation.state == ReservationState::Held => {
                        if reservation.expires_at > now {
                            return Err(ProductError::NotExpired);
                        }
                        Ok(vec![self.release(
                            order_id,
                            reservation,
                            ReleaseReason::Expired,
                            now,
                        )])
                    }
                    // Committed or released meanwhile: the sweeper's view was stale, nothing to do.
                    _ => Ok(vec![]),
                }
            }
            ProductCommand::AddImage { image, at } => self.add_image(image, at),
            ProductCommand::ReorderImages { order, at } => self.reorder_images(order, at),
            ProductCommand::RemoveImage { image_id, at } => {
                if !self.images.iter().any(|i| i.image_id == image_id) {
                    return Err(ProductError::ImageNotFound);
                }
                Ok(vec![ProductEvent::ProductImageRemoved {
                    image_id,
                    removed_at: at,
                }])
            }
        }
    }

    fn add_image(
        &self,
        image: ProductImage,
        at: DateTime<Utc>,
    ) -> Result<Vec<ProductEvent>, ProductError> {
        let image = ProductImage {
            alt: valid_alt(&image.alt)?,
            ..image
        };
        if let Some(existing) = self.images.iter().find(|i| i.image_id == image.image_id) {
            // A retried upload is answered as if it had just succeeded.
            return if *existing == image {
                Ok(vec![])
            } else {
                Err(ProductError::ImageExists)
            };
        }
        if self.images.len() >= MAX_IMAGES {
            return Err(ProductError::TooManyImages);
        }
        Ok(vec![ProductEvent::ProductImageAdded {
            image,
            added_at: at,
        }])
    }

    fn reorder_images(
        &self,
        order: Vec<ImageId>,
        at: DateTime<Utc>,
    ) -> Result<Vec<ProductEvent>, ProductError> {
        let mut named = order.clone();
        named.sort();
        named.dedup();
        let mut current: Vec<ImageId> = self.images.iter().map(|i| i.image_id).collect();
        current.sort();
        if named.len() != order.len() || named != current {
            return Err(ProductError::InvalidImageOrder);
        }
        let unchanged = self
            .images
            .iter()
            .map(|i| i.image_id)
            .eq(order.iter().copied());
        if unchanged {
            return Ok(vec![]);
        }
        Ok(vec![ProductEvent::ProductImagesReordered {
            order,
            reordered_at: at,
        }])
    }

    fn update_details(
        &self,
        name: Option<String>,
        description: Option<String>,
        category: Option<String>,
        price: Option<Money>,
        at: DateTime<Utc>,
    ) -> Result<Vec<ProductEvent>, ProductError> {
        if name.is_none() && description.is_none() && category.is_none() && price.is_none() {
            return Err(ProductError::NothingToUpdate);
        }
        let name = name.map(|name| valid_name(&name)).transpose()?;
        let description = description.map(|d| valid_description(&d)).transpose()?;
        let category = category.map(|c| valid_category(&c)).transpose()?;
        // Carts and orders compare currencies; a product switching currency would break them.
        if let (Some(new), Some(current)) = (price, self.price)
            && new.currency() != current.currency()
        {
            return Err(ProductError::CurrencyChange);
        }
        Ok(vec![ProductEvent::ProductDetailsUpdated {
            name,
            description,
            category,
            price,
            updated_at: at,
        }])
    }

    fn adjust_stock(
        &self,
        delta: i64,
        at: DateTime<Utc>,
    ) -> Result<Vec<ProductEvent>, ProductError> {
        if delta == 0 {
            return Err(ProductError::ZeroAdjustment);
        }
        let too_much = ProductError::StockLimitExceeded { max: u32::MAX };
        let reserved = self.reserved();
        let new_on_hand = i64::from(self.on_hand)
            .checked_add(delta)
            .ok_or(too_much.clone())?;
        // Units promised to orders must stay in the warehouse; this also keeps on_hand >= 0.
        if new_on_hand < i64::from(reserved) {
            return Err(ProductError::BelowReserved {
                on_hand: self.on_hand,
                reserved,
                delta,
            });
        }
        let on_hand = u32::try_from(new_on_hand).map_err(|_| too_much)?;
        Ok(vec![ProductEvent::StockAdjusted {
            delta,
            on_hand,
            available: on_hand - reserved,
            adjusted_at: at,
        }])
    }

    /// Gives a held or committed reservation back; committed units go back on the shelf too.
    fn release(
        &self,
        order_id: OrderId,
        reservation: &Reservation,
        reason: ReleaseReason,
        at: DateTime<Utc>,
    ) -> ProductEvent {
        let returned_to_stock = reservation.state == ReservationState::Committed;
        let (on_hand, still_reserved) = if returned_to_stock {
            // Saturating: a compensation must not fail, and u32::MAX units is not a real shelf.
            (
                self.on_hand.saturating_add(reservation.quantity),
                self.reserved(),
            )
        } else {
            (
                self.on_hand,
                self.reserved().saturating_sub(reservation.quantity),
            )
        };
        ProductEvent::ReservationReleased {
            order_id,
            quantity: reservation.quantity,
            reason,
            returned_to_stock,
            on_hand,
            available: on_hand.saturating_sub(still_reserved),
            released_at: at,
        }
    }
}

fn valid_name(raw: &str) -> Result<String, ProductError> {
    text::required(raw, MAX_NAME_CHARS).map_err(|_| ProductError::InvalidName)
}

fn valid_description(raw: &str) -> Result<String, ProductError> {
    text::optional(raw, MAX_DESCRIPTION_CHARS).map_err(|_| ProductError::InvalidDescription)
}

fn valid_category(raw: &str) -> Result<String, ProductError> {
    text::required(raw, MAX_CATEGORY_CHARS).map_err(|_| ProductError::InvalidCategory)
}

impl Aggregate for Product {
    const TYPE: &'static str = "product";
    type Command = ProductCommand;
    type Event = ProductEvent;
    type Error = ProductError;
    type Services = ();

    async fn handle(
        &mut self,
        command: ProductCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), ProductError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: ProductEvent) {
        match event {
            ProductEvent::ProductCreated {
                product_id,
                sku,
                name,
                description,
                category,
                price,
                stock,
                ..
            } => {
                self.created = true;
                self.id = Some(product_id);
                self.sku = Some(sku);
                self.name = name;
                self.description = description;
                self.category = category;
                self.price = Some(price);
                self.on_hand = stock;
            }
            ProductEvent::ProductDetailsUpdated {
                name,
                description,
                category,
                price,
                ..
            } => {
                if let Some(name) = name {
                    self.name = name;
                }
                if let Some(description) = description {
                    self.description = description;
                }
                if let Some(category) = category {
                    self.category = category;
                }
                if price.is_some() {
                    self.price = price;
                }
            }
            ProductEvent::StockAdjusted { on_hand, .. } => self.on_hand = on_hand,
            ProductEvent::ProductDiscontinued { .. } => self.discontinued = true,
            ProductEvent::StockReserved {
                order_id,
                quantity,
                expires_at,
                ..
            } => {
                let reservation = Reservation {
                    quantity,
                    expires_at,
                    state: ReservationState::Held,
                };
                self.reservations.insert(order_id, reservation);
            }
            ProductEvent::ReservationCommitted {
                order_id, on_hand, ..
            } => {
                self.on_hand = on_hand;
                self.set_reservation_state(order_id, ReservationState::Committed);
            }
            ProductEvent::ReservationReleased {
                order_id, on_hand, ..
            } => {
                self.on_hand = on_hand;
                self.set_reservation_state(order_id, ReservationState::Released);
            }
            ProductEvent::ProductImageAdded { image, .. } => self.images.push(image),
            ProductEvent::ProductImagesReordered { order, .. } => {
                let mut images = std::mem::take(&mut self.images);
                self.images = order
                    .iter()
                    .filter_map(|id| {
                        let at = images.iter().position(|i| i.image_id == *id)?;
                        Some(images.remove(at))
                    })
                    .collect();
                // An image the order left out (never so by the rules) stays, after the others.
                self.images.append(&mut images);
            }
            ProductEvent::ProductImageRemoved { image_id, .. } => {
                self.images.retain(|i| i.image_id != image_id);
            }
        }
    }
}

impl Product {
    fn set_reservation_state(&mut self, order_id: OrderId, state: ReservationState) {
        if let Some(reservation) = self.reservations.get_mut(&order_id) {
            reservation.state = state;
        }
    }
}

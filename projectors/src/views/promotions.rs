//! Promotions (MongoDB): one document per discount code with its terms, status and redemption counts.
//! `GET /promotions` lists them for administrators, and `GET /cart` reads the applied code's terms to show
//! what it takes off.

use chrono::{DateTime, Utc};
use domain::Money;
use domain::promotion::discount::{Off, Offer};
use domain::promotion::{PromotionEvent, PromotionStatus};
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{Index, StoreKind, View, ViewError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PromotionView {
    pub id: String,
    pub code: String,
    /// `None` only before `PromotionCreated` was seen.
    pub offer: Option<Offer>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    pub max_redemptions: Option<u32>,
    pub max_per_customer: Option<u32>,
    pub status: PromotionStatus,
    /// Whether the code has a limit: only then does the promotion hold, count and give back redemptions,
    /// and this view count them. A code without one is counted from the orders view when listed.
    #[serde(default)]
    pub limited: bool,
    /// Orders confirmed with the code (codes with a limit).
    pub redeemed: i64,
    /// Orders placed with the code and not yet confirmed or cancelled (codes with a limit).
    pub held: i64,
    /// The orders holding a redemption and those counted, so that a redelivered event or a release of a
    /// counted redemption moves the right count.
    pub holding: Vec<String>,
    pub counted: Vec<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// Sort key for "newest first".
    pub created_key: i64,
}

impl PromotionView {
    pub const NAME_STR: &'static str = "promotions";

    pub fn percent_off(&self) -> Option<u8> {
        match self.offer.as_ref()?.off {
            Off::Percent(percent) => Some(percent),
            Off::Amount(_) => None,
        }
    }

    pub fn amount_off(&self) -> Option<Money> {
        match self.offer.as_ref()?.off {
            Off::Amount(amount) => Some(amount),
            Off::Percent(_) => None,
        }
    }

    fn counts(&mut self) {
        self.held = self.holding.len() as i64;
        self.redeemed = self.counted.len() as i64;
    }
}

impl View for PromotionView {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Mongo;
    // Every code, or those of one status, newest first.
    const INDEXES: &'static [Index] = &[
        &[("created_key", -1), ("_id", 1)],
        &[("status", 1), ("created_key", -1), ("_id", 1)],
    ];

    fn key(event: &StoredEvent) -> Option<String> {
        (event.aggregate_type == "promotion").then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        match decode::<PromotionEvent>(event)? {
            PromotionEvent::PromotionCreated { terms, created_at } => {
                self.id = event.aggregate_id.clone();
                self.limited = terms.limited();
                self.code = terms.code;
                self.offer = Some(terms.offer);
                self.valid_from = terms.valid_from;
                self.valid_until = terms.valid_until;
                self.max_redemptions = terms.max_redemptions;
                self.max_per_customer = terms.max_per_customer;
                self.status = PromotionStatus::Active;
                self.created_at = Some(created_at);
                self.updated_at = Some(created_at);
                self.created_key = created_at.timestamp_micros();
            }
            PromotionEvent::PromotionPaused { at } => {
                self.status = PromotionStatus::Paused;
                self.updated_at = Some(at);
            }
            PromotionEvent::PromotionResumed { at } => {
                self.status = PromotionStatus::Active;
                self.updated_at = Some(at);
            }
            PromotionEvent::PromotionEnded { at } => {
                self.status = PromotionStatus::Ended;
                self.updated_at = Some(at);
            }
            PromotionEvent::RedemptionHeld { order_id, .. } => {
                let order = order_id.to_string();
                if !self.holding.contains(&order) {
                    self.holding.push(order);
                }
            }
            PromotionEvent::RedemptionCounted { order_id, .. } => {
                let order = order_id.to_string();
                if let Some(at) = self.holding.iter().position(|o| *o == order) {
                    self.holding.swap_remove(at);
                    self.counted.push(order);
                }
            }
            PromotionEvent::RedemptionReleased { order_id, .. } => {
                let order = order_id.to_string();
                self.holding.retain(|o| *o != order);
                self.counted.retain(|o| *o != order);
            }
        }
        self.counts();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::promotion::Terms;
    use domain::promotion::discount::{Off, Offer};
    use domain::{OrderId, UserId};
    use uuid::Uuid;

    use super::*;
    use crate::views::test_events::stored;

    fn order(n: u128) -> OrderId {
        OrderId::new(Uuid::from_u128(n))
    }

    #[test]
    fn a_code_counts_its_redemptions_once_each_and_gives_back_released_ones() {
        let created = PromotionEvent::PromotionCreated {
            terms: Terms {
                code: "SPRING10".to_owned(),
                offer: Offer {
                    off: Off::Percent(10),
                    min_subtotal: None,
                    categories: vec![],
                },
                valid_from: None,
                valid_until: None,
                max_redemptions: Some(10),
                max_per_customer: None,
            },
            created_at: Utc::now(),
        };
        let customer = UserId::new(Uuid::from_u128(9));
        let at = Utc::now();
        let events = [
            created,
            PromotionEvent::RedemptionHeld {
                order_id: order(1),
                customer,
                at,
            },
            PromotionEvent::RedemptionHeld {
                order_id: order(2),
                customer,
                at,
            },
            // Delivered twice.
            PromotionEvent::RedemptionHeld {
                order_id: order(2),
                customer,
                at,
            },
            PromotionEvent::RedemptionCounted {
                order_id: order(1),
                at,
            },
            PromotionEvent::RedemptionCounted {
                order_id: order(1),
                at,
            },
            PromotionEvent::PromotionPaused { at },
        ];
        let mut view = PromotionView::default();
        for (n, event) in events.iter().enumerate() {
            view.update(&stored("promotion", "p", n as i64 + 1, event))
                .unwrap();
        }
        assert_eq!((view.redeemed, view.held), (1, 1));
        assert_eq!(view.code, "SPRING10");
        assert_eq!(view.percent_off(), Some(10));
        assert_eq!(view.status, PromotionStatus::Paused);

        let released = PromotionEvent::RedemptionReleased {
            order_id: order(1),
            at,
        };
        view.update(&stored("promotion", "p", 8, &released))
            .unwrap();
        assert_eq!((view.redeemed, view.held), (0, 1));
    }
}

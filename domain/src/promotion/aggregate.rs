use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::discount::{Off, Offer};
use crate::{OrderId, ProblemCode, Refusal, RuleViolation, UserId};

/// Whether a code can be applied now, as an admin last set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PromotionStatus {
    #[default]
    Active,
    Paused,
    /// For good: an ended code cannot be resumed.
    Ended,
}

/// A new code's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    /// What customers type: 3 to 32 of A-Z, 0-9, '-' and '_', kept upper case.
    pub code: String,
    pub offer: Offer,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Redemptions in all (held and counted).
    pub max_redemptions: Option<u32>,
    /// Redemptions per customer (held and counted).
    pub max_per_customer: Option<u32>,
}

impl Terms {
    /// Whether the code has a limit (in all or per customer): only then are its redemptions held at
    /// checkout, counted and given back. A code without one is checked and recorded on the order, and
    /// checkouts with it never write to the promotion (docs/adr/0019).
    pub fn limited(&self) -> bool {
        self.max_redemptions.is_some() || self.max_per_customer.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PromotionCommand {
    Create {
        terms: Terms,
        at: DateTime<Utc>,
    },
    Pause {
        at: DateTime<Utc>,
    },
    Resume {
        at: DateTime<Utc>,
    },
    End {
        at: DateTime<Utc>,
    },
    /// Holds one redemption for an order at checkout, in the same write as the order. Holding again for the
    /// same order changes nothing.
    Hold {
        order_id: OrderId,
        customer: UserId,
        at: DateTime<Utc>,
    },
    /// Counts the order's held redemption once the order is confirmed. Nothing held: nothing changes.
    Count {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    /// Gives the order's redemption back when the order is cancelled, held or counted.
    Release {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PromotionEvent {
    PromotionCreated {
        terms: Terms,
        created_at: DateTime<Utc>,
    },
    PromotionPaused {
        at: DateTime<Utc>,
    },
    PromotionResumed {
        at: DateTime<Utc>,
    },
    PromotionEnded {
        at: DateTime<Utc>,
    },
    RedemptionHeld {
        order_id: OrderId,
        customer: UserId,
        at: DateTime<Utc>,
    },
    RedemptionCounted {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
    RedemptionReleased {
        order_id: OrderId,
        at: DateTime<Utc>,
    },
}

impl DomainEvent for PromotionEvent {
    fn event_type(&self) -> String {
        match self {
            Self::PromotionCreated { .. } => "PromotionCreated",
            Self::PromotionPaused { .. } => "PromotionPaused",
            Self::PromotionResumed { .. } => "PromotionResumed",
            Self::PromotionEnded { .. } => "PromotionEnded",
            Self::RedemptionHeld { .. } => "RedemptionHeld",
            Self::RedemptionCounted { .. } => "RedemptionCounted",
            Self::RedemptionReleased { .. } => "RedemptionReleased",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// Why a promotion command was refused; each reason is one a customer or an admin can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PromotionError {
    #[error("there is no such discount code")]
    NotFound,
    #[error("this promotion has already been created")]
    AlreadyCreated,
    #[error("a code is 3 to 32 of A-Z, 0-9, '-' and '_'")]
    InvalidCode,
    #[error("a percentage off is 1 to 100, and an amount off more than zero")]
    InvalidOff,
    #[error("the code's validity ends before it begins")]
    InvalidWindow,
    #[error("this discount code is paused")]
    Paused,
    #[error("this discount code has ended")]
    Ended,
    #[error("this discount code is not valid yet")]
    NotYetValid,
    #[error("this discount code has expired")]
    Expired,
    #[error("this discount code has been used up")]
    UsedUp,
    #[error("you have already used this discount code as often as it allows")]
    UsedUpByCustomer,
}

impl RuleViolation for PromotionError {
    fn code(&self) -> ProblemCode {
        match self {
            Self::NotFound => ProblemCode::DiscountCodeUnknown,
            Self::AlreadyCreated => ProblemCode::AlreadyCreated,
            Self::InvalidCode => ProblemCode::InvalidDiscountCode,
            Self::InvalidOff => ProblemCode::InvalidDiscount,
            Self::InvalidWindow => ProblemCode::InvalidValidity,
            Self::Paused => ProblemCode::DiscountCodePaused,
            Self::Ended => ProblemCode::DiscountCodeEnded,
            Self::NotYetValid => ProblemCode::DiscountCodeNotYetValid,
            Self::Expired => ProblemCode::DiscountCodeExpired,
            Self::UsedUp => ProblemCode::DiscountCodeUsedUp,
            Self::UsedUpByCustomer => ProblemCode::DiscountCodeUsedUpByCustomer,
        }
    }

    /// An unknown code is a customer's typo (422), not a missing resource.
    fn refusal(&self) -> Refusal {
        match self {
            Self::AlreadyCreated => Refusal::Conflict,
            _ => Refusal::Rule,
        }
    }
}

/// A discount code with its limits and the redemptions held and counted against them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Promotion {
    terms: Option<Terms>,
    status: PromotionStatus,
    /// Orders holding a redemption, not yet confirmed or cancelled, with their customers.
    held: BTreeMap<OrderId, UserId>,
    /// Confirmed orders' redemptions, with their customers (given back if such an order is cancelled).
    counted: BTreeMap<OrderId, UserId>,
}

impl Promotion {
    pub fn terms(&self) -> Option<&Terms> {
        self.terms.as_ref()
    }

    pub fn status(&self) -> PromotionStatus {
        self.status
    }

    /// Redemptions counted (confirmed orders).
    pub fn redeemed(&self) -> usize {
        self.counted.len()
    }

    /// Redemptions held by orders still pending.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    fn taken_by(&self, customer: UserId) -> usize {
        self.held
            .values()
            .chain(self.counted.values())
            .filter(|c| **c == customer)
            .count()
    }

    /// Whether `customer` may use the code at `at`: what applying it to a cart checks, and holding it again
    /// at checkout.
    pub fn check(&self, customer: UserId, at: DateTime<Utc>) -> Result<&Terms, PromotionError> {
        let terms = self.terms.as_ref().ok_or(PromotionError::NotFound)?;
        match self.status {
            PromotionStatus::Active => {}
            PromotionStatus::Paused => return Err(PromotionError::Paused),
            PromotionStatus::Ended => return Err(PromotionError::Ended),
        }
        if terms.valid_from.is_some_and(|from| at < from) {
            return Err(PromotionError::NotYetValid);
        }
        if terms.valid_until.is_some_and(|until| at >= until) {
            return Err(PromotionError::Expired);
        }
        let taken = self.held.len() + self.counted.len();
        if terms
            .max_redemptions
            .is_some_and(|max| taken >= max as usize)
        {
            return Err(PromotionError::UsedUp);
        }
        if terms
            .max_per_customer
            .is_some_and(|max| self.taken_by(customer) >= max as usize)
        {
            return Err(PromotionError::UsedUpByCustomer);
        }
        Ok(terms)
    }
}

/// A code as customers may type it: trimmed, upper case, 3 to 32 of A-Z, 0-9, '-' and '_'.
pub fn normalize_code(raw: &str) -> Result<String, PromotionError> {
    let code = raw.trim().to_ascii_uppercase();
    let valid = (3..=32).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_');
    valid.then_some(code).ok_or(PromotionError::InvalidCode)
}

fn check_terms(terms: &Terms) -> Result<Terms, PromotionError> {
    let code = normalize_code(&terms.code)?;
    match terms.offer.off {
        Off::Percent(percent) if !(1..=100).contains(&percent) => {
            return Err(PromotionError::InvalidOff);
        }
        Off::Amount(amount) if amount.is_zero() => return Err(PromotionError::InvalidOff),
        _ => {}
    }
    if let (Some(from), Some(until)) = (terms.valid_from, terms.valid_until)
        && until <= from
    {
        return Err(PromotionError::InvalidWindow);
    }
    Ok(Terms {
        code,
        ..terms.clone()
    })
}

impl Aggregate for Promotion {
    const TYPE: &'static str = "promotion";
    type Command = PromotionCommand;
    type Event = PromotionEvent;
    type Error = PromotionError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let event = match command {
            PromotionCommand::Create { terms, at } => {
                if self.terms.is_some() {
                    return Err(PromotionError::AlreadyCreated);
                }
                PromotionEvent::PromotionCreated {
                    terms: check_terms(&terms)?,
                    created_at: at,
                }
            }
            PromotionCommand::Pause { at } => match (self.terms.is_some(), self.status) {
                (false, _) => return Err(PromotionError::NotFound),
                (true, PromotionStatus::Ended) => return Err(PromotionError::Ended),
                (true, PromotionStatus::Paused) => return Ok(()),
                (true, PromotionStatus::Active) => PromotionEvent::PromotionPaused { at },
            },
            PromotionCommand::Resume { at } => match (self.terms.is_some(), self.status) {
                (false, _) => return Err(PromotionError::NotFound),
                (true, PromotionStatus::Ended) => return Err(PromotionError::Ended),
                (true, PromotionStatus::Active) => return Ok(()),
                (true, PromotionStatus::Paused) => PromotionEvent::PromotionResumed { at },
            },
            PromotionCommand::End { at } => match (self.terms.is_some(), self.status) {
                (false, _) => return Err(PromotionError::NotFound),
                (true, PromotionStatus::Ended) => return Ok(()),
                (true, _) => PromotionEvent::PromotionEnded { at },
            },
            PromotionCommand::Hold {
                order_id,
                customer,
                at,
            } => {
                if self.held.contains_key(&order_id) || self.counted.contains_key(&order_id) {
                    return Ok(());
                }
                self.check(customer, at)?;
                PromotionEvent::RedemptionHeld {
                    order_id,
                    customer,
                    at,
                }
            }
            PromotionCommand::Count { order_id, at } => {
                if !self.held.contains_key(&order_id) {
                    return Ok(());
                }
                PromotionEvent::RedemptionCounted { order_id, at }
            }
            PromotionCommand::Release { order_id, at } => {
                if !self.held.contains_key(&order_id) && !self.counted.contains_key(&order_id) {
                    return Ok(());
                }
                PromotionEvent::RedemptionReleased { order_id, at }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        match event {
            PromotionEvent::PromotionCreated { terms, .. } => {
                self.terms = Some(terms);
                self.status = PromotionStatus::Active;
            }
            PromotionEvent::PromotionPaused { .. } => self.status = PromotionStatus::Paused,
            PromotionEvent::PromotionResumed { .. } => self.status = PromotionStatus::Active,
            PromotionEvent::PromotionEnded { .. } => self.status = PromotionStatus::Ended,
            PromotionEvent::RedemptionHeld {
                order_id, customer, ..
            } => {
                self.held.insert(order_id, customer);
            }
            PromotionEvent::RedemptionCounted { order_id, .. } => {
                if let Some(customer) = self.held.remove(&order_id) {
                    self.counted.insert(order_id, customer);
                }
            }
            PromotionEvent::RedemptionReleased { order_id, .. } => {
                self.held.remove(&order_id);
                self.counted.remove(&order_id);
            }
        }
    }
}

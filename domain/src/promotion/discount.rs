//! What a discount code takes off a set of lines, in integer minor units (issue 16's money rules).
//!
//! - The discount is computed once, on the subtotal of the lines it applies to (its categories, or every line):
//!   a percentage of it, rounded half up, or a fixed amount capped at it.
//! - A minimum subtotal is a minimum of those eligible lines.
//! - The discount is then split over the eligible lines in proportion to their totals by the largest
//!   remainder: each line gets the whole minor units of its share, and the units left over go one each to the
//!   lines with the largest fractions (the earlier line on a tie). The line discounts sum exactly to the
//!   discount, and none is more than its line.

use serde::{Deserialize, Serialize};

use crate::{Money, ProblemCode, Refusal, RuleViolation};

/// How much a code takes off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Off {
    /// 1 to 100 percent of the eligible subtotal.
    Percent(u8),
    /// A fixed amount, capped at the eligible subtotal.
    Amount(Money),
}

/// What a discount applies to and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    pub off: Off,
    /// The least eligible subtotal the code needs.
    pub min_subtotal: Option<Money>,
    /// The categories whose products it applies to (matched ignoring ASCII case); empty means every product.
    pub categories: Vec<String>,
}

/// A line as the discount sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    /// The product's category, if it has one.
    pub category: Option<String>,
    /// Unit price × quantity.
    pub total: Money,
}

/// What an offer takes off: in all, and per line (in the lines' order; 0 for a line it does not apply to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discount {
    pub amount: Money,
    pub per_line: Vec<Money>,
}

/// Why an offer takes nothing off these lines; each reason is one the customer can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscountError {
    #[error("the code applies to none of the products in the cart")]
    NotApplicable,
    #[error("the code needs a subtotal of at least {} of the products it applies to", .min.amount())]
    BelowMinimum { min: Money },
    #[error("the code's amount is in another currency than the cart")]
    CurrencyMismatch,
    #[error("the cart is too large to discount")]
    Overflow,
}

impl RuleViolation for DiscountError {
    fn code(&self) -> ProblemCode {
        match self {
            DiscountError::NotApplicable => ProblemCode::DiscountNotApplicable,
            DiscountError::BelowMinimum { .. } => ProblemCode::DiscountBelowMinimum,
            DiscountError::CurrencyMismatch => ProblemCode::CurrencyMismatch,
            DiscountError::Overflow => ProblemCode::Overflow,
        }
    }

    fn refusal(&self) -> Refusal {
        Refusal::Rule
    }
}

impl Offer {
    fn applies_to(&self, line: &PricedLine) -> bool {
        self.categories.is_empty()
            || line.category.as_ref().is_some_and(|category| {
                self.categories
                    .iter()
                    .any(|wanted| wanted.eq_ignore_ascii_case(category.trim()))
            })
    }

    /// What this offer takes off `lines` (all in one currency).
    pub fn apply(&self, lines: &[PricedLine]) -> Result<Discount, DiscountError> {
        let eligible: Vec<bool> = lines.iter().map(|line| self.applies_to(line)).collect();
        let mut subtotal: Option<Money> = None;
        for (line, _) in lines.iter().zip(&eligible).filter(|(_, e)| **e) {
            subtotal = Some(match subtotal {
                None => line.total,
                Some(sum) => sum
                    .checked_add(line.total)
                    .map_err(|_| DiscountError::CurrencyMismatch)?,
            });
        }
        let Some(subtotal) = subtotal.filter(|s| !s.is_zero()) else {
            return Err(DiscountError::NotApplicable);
        };
        let currency = subtotal.currency();
        if let Some(min) = self.min_subtotal {
            if min.currency() != currency {
                return Err(DiscountError::CurrencyMismatch);
            }
            if subtotal.amount() < min.amount() {
                return Err(DiscountError::BelowMinimum { min });
            }
        }
        let base = i128::from(subtotal.amount());
        let amount = match self.off {
            Off::Percent(percent) => (base * i128::from(percent.min(100)) + 50) / 100,
            Off::Amount(off) if off.currency() != currency => {
                return Err(DiscountError::CurrencyMismatch);
            }
            Off::Amount(off) => i128::from(off.amount()).min(base),
        };
        // Each eligible line's whole share, and the fraction left over (as a numerator over `base`).
        let mut shares: Vec<(i128, i128)> = lines
            .iter()
            .zip(&eligible)
            .map(|(line, eligible)| {
                if *eligible {
                    let exact = amount * i128::from(line.total.amount());
                    (exact / base, exact % base)
                } else {
                    (0, 0)
                }
            })
            .collect();
        let given: i128 = shares.iter().map(|(whole, _)| whole).sum();
        let mut by_fraction: Vec<usize> = (0..lines.len()).filter(|i| eligible[*i]).collect();
        by_fraction.sort_by(|a, b| shares[*b].1.cmp(&shares[*a].1).then(a.cmp(b)));
        for index in by_fraction.into_iter().take((amount - given) as usize) {
            shares[index].0 += 1;
        }
        let money = |minor: i128| {
            i64::try_from(minor)
                .ok()
                .and_then(|minor| Money::new(minor, currency).ok())
                .ok_or(DiscountError::Overflow)
        };
        Ok(Discount {
            amount: money(amount)?,
            per_line: shares
                .into_iter()
                .map(|(whole, _)| money(whole))
                .collect::<Result<_, _>>()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::Currency;

    fn eur(minor: i64) -> Money {
        Money::new(minor, Currency::EUR).unwrap()
    }

    fn line(category: &str, total: i64) -> PricedLine {
        PricedLine {
            category: Some(category.to_owned()),
            total: eur(total),
        }
    }

    fn offer(off: Off) -> Offer {
        Offer {
            off,
            min_subtotal: None,
            categories: Vec::new(),
        }
    }

    fn amounts(discount: &Discount) -> Vec<i64> {
        discount.per_line.iter().map(Money::amount).collect()
    }

    #[test]
    fn it_should_take_a_percentage_of_the_subtotal_once_and_split_it_by_the_largest_remainder() {
        // 10 % of 1000 is 100; shares 33.3, 33.3, 33.3 → 33 each and the unit left to the first line.
        let discount = offer(Off::Percent(10))
            .apply(&[line("a", 333), line("a", 333), line("a", 334)])
            .unwrap();
        assert_eq!(discount.amount, eur(100));
        assert_eq!(amounts(&discount), [33, 33, 34]);
    }

    #[test]
    fn it_should_match_categories_ignoring_case() {
        let books = Offer {
            categories: vec!["books".to_owned()],
            ..offer(Off::Percent(50))
        };
        let discount = books
            .apply(&[line("Books", 1000), line("Games", 1000)])
            .unwrap();
        assert_eq!(amounts(&discount), [500, 0]);
    }

    #[test]
    fn it_should_round_the_percentage_half_up() {
        let discount = offer(Off::Percent(15)).apply(&[line("a", 1030)]).unwrap();
        assert_eq!(discount.amount, eur(155), "15 % of 10.30 is 1.545");
    }

    #[test]
    fn it_should_cap_a_fixed_amount_at_the_eligible_subtotal() {
        let discount = offer(Off::Amount(eur(5000)))
            .apply(&[line("a", 1200), line("b", 800)])
            .unwrap();
        assert_eq!(discount.amount, eur(2000));
        assert_eq!(amounts(&discount), [1200, 800]);
    }

    #[test]
    fn it_should_apply_to_its_categories_only_and_measure_the_minimum_on_them() {
        let books = Offer {
            off: Off::Percent(50),
            min_subtotal: Some(eur(1000)),
            categories: vec!["books".to_owned()],
        };
        let lines = [line("books", 1000), line("toys", 5000)];
        let discount = books.apply(&lines).unwrap();
        assert_eq!(amounts(&discount), [500, 0]);
        assert_eq!(
            books.apply(&[line("books", 999), line("toys", 5000)]),
            Err(DiscountError::BelowMinimum { min: eur(1000) }),
            "the toys do not count towards the minimum"
        );
        assert_eq!(
            books.apply(&[line("toys", 5000)]),
            Err(DiscountError::NotApplicable)
        );
    }

    #[test]
    fn it_should_refuse_an_amount_in_another_currency() {
        let dollars = Money::new(500, Currency::USD).unwrap();
        assert_eq!(
            offer(Off::Amount(dollars)).apply(&[line("a", 1000)]),
            Err(DiscountError::CurrencyMismatch)
        );
    }

    fn categories() -> impl Strategy<Value = &'static str> {
        proptest::sample::select(vec!["books", "toys", "tools"])
    }

    fn offers() -> impl Strategy<Value = Offer> {
        let off = prop_oneof![
            (1u8..=100).prop_map(Off::Percent),
            (1i64..2_000_000).prop_map(|minor| Off::Amount(eur(minor))),
        ];
        (
            off,
            proptest::option::of(0i64..1_000_000),
            proptest::collection::vec(categories(), 0..3),
        )
            .prop_map(|(off, min, categories)| Offer {
                off,
                min_subtotal: min.map(eur),
                categories: categories.into_iter().map(str::to_owned).collect(),
            })
    }

    fn carts() -> impl Strategy<Value = Vec<PricedLine>> {
        proptest::collection::vec(
            (categories(), 1i64..100_000, 1i64..=99)
                .prop_map(|(category, price, quantity)| line(category, price * quantity)),
            1..12,
        )
    }

    proptest! {
        #[test]
        fn a_discount_is_split_exactly_never_exceeds_a_line_and_follows_its_rules(
            offer in offers(),
            lines in carts(),
        ) {
            let eligible: Vec<bool> = lines
                .iter()
                .map(|line| offer.categories.is_empty()
                    || offer.categories.contains(line.category.as_ref().unwrap()))
                .collect();
            let subtotal: i64 = lines
                .iter()
                .zip(&eligible)
                .filter(|(_, e)| **e)
                .map(|(line, _)| line.total.amount())
                .sum();
            match offer.apply(&lines) {
                Ok(discount) => {
                    let split: i64 = discount.per_line.iter().map(Money::amount).sum();
                    prop_assert_eq!(split, discount.amount.amount(), "the lines sum to the discount");
                    prop_assert!(discount.amount.amount() <= subtotal, "never more than the eligible subtotal");
                    for ((line, share), eligible) in lines.iter().zip(&discount.per_line).zip(&eligible) {
                        prop_assert!(share.amount() <= line.total.amount(), "never more than its line");
                        if !eligible {
                            prop_assert_eq!(share.amount(), 0, "nothing off a line it does not apply to");
                        }
                    }
                    match offer.off {
                        Off::Percent(percent) => {
                            let exact = subtotal as f64 * f64::from(percent) / 100.0;
                            prop_assert!((discount.amount.amount() as f64 - exact).abs() <= 0.5);
                        }
                        Off::Amount(off) => {
                            prop_assert_eq!(discount.amount.amount(), off.amount().min(subtotal));
                        }
                    }
                    if let Some(min) = offer.min_subtotal {
                        prop_assert!(subtotal >= min.amount());
                    }
                }
                Err(DiscountError::NotApplicable) => prop_assert_eq!(subtotal, 0),
                Err(DiscountError::BelowMinimum { min }) => prop_assert!(subtotal < min.amount()),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}

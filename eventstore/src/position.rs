//! The position token: a point in the feed's `(transaction id, position)` order.

use std::fmt;
use std::str::FromStr;

/// Names one event in the feed. Clients see it as an opaque string (`"<xid>.<position>"`); ordering follows
/// the feed, so `a < b` means the feed delivers `a` before `b`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    /// The id of the transaction that wrote the event (PostgreSQL `xid8`).
    pub transaction_id: u64,
    /// The event's global insertion number, unique across the store.
    pub position: i64,
}

impl Position {
    /// The point before every event.
    pub const START: Position = Position {
        transaction_id: 0,
        position: 0,
    };

    pub fn new(transaction_id: u64, position: i64) -> Self {
        Self {
            transaction_id,
            position,
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.transaction_id, self.position)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a position token: {0:?}")]
pub struct InvalidPosition(pub String);

impl FromStr for Position {
    type Err = InvalidPosition;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidPosition(s.chars().take(64).collect());
        let (xid, position) = s.split_once('.').ok_or_else(invalid)?;
        Ok(Self {
            transaction_id: xid.parse().map_err(|_| invalid())?,
            position: position.parse().map_err(|_| invalid())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_round_trip_through_its_string_form() {
        let p = Position::new(812, 40_551);
        assert_eq!(p.to_string().parse::<Position>(), Ok(p));
    }

    #[test]
    fn it_should_refuse_strings_that_are_not_tokens() {
        for s in ["", "12", "a.b", "1.2.3", "-1.5", "1.x"] {
            assert!(s.parse::<Position>().is_err(), "{s}");
        }
    }

    #[test]
    fn it_should_order_by_transaction_before_position() {
        assert!(Position::new(5, 900) < Position::new(6, 10));
        assert!(Position::new(6, 10) < Position::new(6, 11));
    }
}

//! Query-string parameters: unknown ones are ignored, present ones must have the right type (else 400).
//!
//! The parameter structs take every value as text and parse it here, so that a wrong type answers our
//! problem+json naming the parameter; `#[param(value_type = ...)]` documents the type expected.

use std::collections::BTreeMap;
use std::str::FromStr;

use crate::error::ReadError;
use projectors::search::QueryError;
use projectors::search::query::MAX_DEPTH;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// An id from the path as the stores hold it (`T`: `ProductId`, `OrderId`). Anything that does not parse
/// is 404 before it touches a cache, Redis or MongoDB (`_checkpoint`, a 60 KB string, ...).
pub fn path_id<T: FromStr + ToString>(raw: &str) -> Result<String, ReadError> {
    raw.parse::<T>()
        .map(|id| id.to_string())
        .map_err(|_| ReadError::NotFound)
}

/// A parameter parsed as `T`, if present and not empty.
pub fn optional<T: FromStr>(
    value: Option<&str>,
    name: &'static str,
    expected: &'static str,
) -> Result<Option<T>, ReadError> {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| ReadError::parameter(name, expected)),
    }
}

/// Which page of a listing to show.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// From 1; `page × limit` at most 10,000 (else 422).
    #[param(value_type = Option<u64>, minimum = 1, example = 1)]
    page: Option<String>,
    /// Items per page, 1 to 100; 20 when left out.
    #[param(value_type = Option<u64>, minimum = 1, maximum = 100, example = 20)]
    limit: Option<String>,
}

impl Paging {
    /// `page` (from 1) and `limit` (1..=100, default 20), with `page × limit` at most
    /// [`MAX_DEPTH`] (else 422): a listing is read up to its page, so an absurd page is refused before any
    /// store is asked to skip that far.
    pub fn parse(&self) -> Result<(u64, u64), ReadError> {
        let page =
            optional::<u64>(self.page.as_deref(), "page", "a whole number from 1")?.unwrap_or(1);
        if page == 0 {
            return Err(ReadError::parameter("page", "a whole number from 1"));
        }
        let limit = optional::<u64>(
            self.limit.as_deref(),
            "limit",
            "a whole number from 1 to 100",
        )?
        .unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(ReadError::parameter(
                "limit",
                "a whole number from 1 to 100",
            ));
        }
        if page
            .checked_mul(limit)
            .is_none_or(|depth| depth > MAX_DEPTH)
        {
            return Err(ReadError::Validation(BTreeMap::from([(
                "page".to_owned(),
                QueryError::TooDeep.to_string(),
            )])));
        }
        Ok((page, limit))
    }
}

/// A page of a listing.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// This page's number, from 1.
    pub page: u64,
    pub limit: u64,
    /// Items on all pages.
    pub total: u64,
    /// How many pages there are.
    pub pages: u64,
}

impl<T> Page<T> {
    /// A page of the read model's listing, each item shown as `show` has it.
    pub fn of<'a, V>(
        page: &'a projectors::store::query::Page<V>,
        show: impl FnMut(&'a V) -> T,
    ) -> Self {
        Self {
            items: page.items.iter().map(show).collect(),
            page: page.page,
            limit: page.limit,
            total: page.total,
            pages: page.pages(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paging(page: Option<&str>, limit: Option<&str>) -> Result<(u64, u64), ReadError> {
        Paging {
            page: page.map(str::to_owned),
            limit: limit.map(str::to_owned),
        }
        .parse()
    }

    #[test]
    fn it_should_default_paging_and_refuse_limits_outside_1_to_100() {
        assert_eq!(paging(None, None).unwrap(), (1, 20));
        assert_eq!(paging(Some("3"), Some("100")).unwrap(), (3, 100));
        assert_eq!(paging(Some("100"), Some("100")).unwrap(), (100, 100));
        for (page, limit) in [("101", "100"), ("184467440737095517", "100")] {
            let refused = paging(Some(page), Some(limit)).unwrap_err();
            assert!(
                matches!(refused, ReadError::Validation(_)),
                "{page}: {refused:?}"
            );
        }
        for (page, limit) in [
            (None, Some("0")),
            (None, Some("101")),
            (Some("0"), None),
            (Some("x"), None),
            (None, Some("-1")),
        ] {
            assert!(paging(page, limit).is_err(), "{page:?} {limit:?}");
        }
    }

    #[test]
    fn it_should_ignore_empty_values_and_refuse_wrong_types() {
        assert_eq!(optional::<i64>(Some(""), "min_price", "").unwrap(), None);
        assert!(optional::<i64>(Some("cheap"), "min_price", "").is_err());
    }
}

//! Query-string parameters: unknown ones are ignored, present ones must have the right type (else 400).

use std::collections::HashMap;
use std::str::FromStr;

use axum::http::StatusCode;
use platform::Problem;

pub type Params = HashMap<String, String>;

pub fn invalid(name: &str, expected: &str) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "invalid_parameter",
        format!("The query parameter {name} must be {expected}."),
    )
}

/// A parameter parsed as `T`, if present and not empty.
pub fn optional<T: FromStr>(
    params: &Params,
    name: &str,
    expected: &str,
) -> Result<Option<T>, Problem> {
    match params.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| invalid(name, expected)),
    }
}

/// `page` (from 1) and `limit` (1..=100, default 20).
pub fn paging(params: &Params) -> Result<(u64, u64), Problem> {
    let page = optional::<u64>(params, "page", "a whole number from 1")?.unwrap_or(1);
    if page == 0 {
        return Err(invalid("page", "a whole number from 1"));
    }
    let limit = optional::<u64>(params, "limit", "a whole number from 1 to 100")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(invalid("limit", "a whole number from 1 to 100"));
    }
    Ok((page, limit))
}

/// A page of a listing as the API shows it.
pub fn page_json<T>(
    page: &projectors::store::query::Page<T>,
    items: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "items": items,
        "page": page.page,
        "limit": page.limit,
        "total": page.total,
        "pages": page.pages(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn it_should_default_paging_and_refuse_limits_outside_1_to_100() {
        assert_eq!(paging(&params(&[])).unwrap(), (1, 20));
        assert_eq!(
            paging(&params(&[("page", "3"), ("limit", "100")])).unwrap(),
            (3, 100)
        );
        for bad in [
            ("limit", "0"),
            ("limit", "101"),
            ("page", "0"),
            ("page", "x"),
            ("limit", "-1"),
        ] {
            assert!(paging(&params(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn it_should_ignore_empty_values_and_refuse_wrong_types() {
        assert_eq!(
            optional::<i64>(&params(&[("min_price", "")]), "min_price", "").unwrap(),
            None
        );
        assert!(optional::<i64>(&params(&[("min_price", "cheap")]), "min_price", "").is_err());
    }
}

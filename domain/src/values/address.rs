use serde::{Deserialize, Serialize};

use super::ValueError;
use super::text::{self, TextProblem};

/// A postal shipping address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawAddress")]
pub struct Address {
    /// Who receives the parcel, which need not be the account holder.
    name: String,
    line1: String,
    line2: Option<String>,
    city: String,
    postal_code: String,
    /// ISO 3166-1 alpha-2, upper-case.
    country: String,
}

impl Address {
    pub const MAX_LINE_CHARS: usize = 200;
    pub const MAX_POSTAL_CODE_CHARS: usize = 20;

    /// Trims every field and reports *all* problems as `(field, message)`, so a form can mark
    /// each bad field at once. A blank `line2` becomes `None`.
    pub fn parse(
        name: &str,
        line1: &str,
        line2: Option<&str>,
        city: &str,
        postal_code: &str,
        country: &str,
    ) -> Result<Address, Vec<(&'static str, String)>> {
        Self::check(name, line1, line2, city, postal_code, country).map_err(|problems| {
            problems
                .into_iter()
                .map(|problem| (problem.field, problem.message()))
                .collect()
        })
    }

    fn check(
        name: &str,
        line1: &str,
        line2: Option<&str>,
        city: &str,
        postal_code: &str,
        country: &str,
    ) -> Result<Address, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let name = required(&mut problems, "name", name, Self::MAX_LINE_CHARS);
        let line1 = required(&mut problems, "line1", line1, Self::MAX_LINE_CHARS);
        let line2 = match line2.map(|raw| text::optional(raw, Self::MAX_LINE_CHARS)) {
            Some(Ok(line2)) if !line2.is_empty() => Some(line2),
            Some(Err(problem)) => {
                problems.push(FieldProblem::text("line2", problem, Self::MAX_LINE_CHARS));
                None
            }
            _ => None,
        };
        let city = required(&mut problems, "city", city, Self::MAX_LINE_CHARS);
        let postal_code = required(
            &mut problems,
            "postal_code",
            postal_code,
            Self::MAX_POSTAL_CODE_CHARS,
        );
        let country = match *country.trim().as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                String::from_utf8_lossy(&[a.to_ascii_uppercase(), b.to_ascii_uppercase()])
                    .into_owned()
            }
            _ => {
                problems.push(FieldProblem {
                    field: "country",
                    kind: ProblemKind::NotACountryCode,
                });
                String::new()
            }
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Address {
            name,
            line1,
            line2,
            city,
            postal_code,
            country,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn line1(&self) -> &str {
        &self.line1
    }

    pub fn line2(&self) -> Option<&str> {
        self.line2.as_deref()
    }

    pub fn city(&self) -> &str {
        &self.city
    }

    pub fn postal_code(&self) -> &str {
        &self.postal_code
    }

    pub fn country(&self) -> &str {
        &self.country
    }
}

/// Trims a mandatory field, recording a problem (and returning a placeholder) if it is refused.
fn required(
    problems: &mut Vec<FieldProblem>,
    field: &'static str,
    raw: &str,
    max: usize,
) -> String {
    text::required(raw, max).unwrap_or_else(|problem| {
        problems.push(FieldProblem::text(field, problem, max));
        String::new()
    })
}

/// One refused address field; kept `'static` so it also fits in `ValueError::InvalidAddress`.
struct FieldProblem {
    field: &'static str,
    kind: ProblemKind,
}

enum ProblemKind {
    Empty,
    TooLong { max: usize },
    NotACountryCode,
}

impl FieldProblem {
    fn text(field: &'static str, problem: TextProblem, max: usize) -> FieldProblem {
        let kind = match problem {
            TextProblem::Empty => ProblemKind::Empty,
            TextProblem::TooLong => ProblemKind::TooLong { max },
        };
        FieldProblem { field, kind }
    }

    fn reason(&self) -> &'static str {
        match self.kind {
            ProblemKind::Empty => "must not be empty",
            ProblemKind::TooLong { .. } => "is too long",
            ProblemKind::NotACountryCode => "must be a two-letter country code such as DE",
        }
    }

    fn message(&self) -> String {
        match self.kind {
            ProblemKind::TooLong { max } => format!("must be at most {max} characters"),
            _ => self.reason().to_owned(),
        }
    }
}

/// The unchecked wire shape; deserializing runs the same checks as `Address::parse`.
#[derive(Deserialize)]
struct RawAddress {
    name: String,
    line1: String,
    #[serde(default)]
    line2: Option<String>,
    city: String,
    postal_code: String,
    country: String,
}

impl TryFrom<RawAddress> for Address {
    type Error = ValueError;

    fn try_from(raw: RawAddress) -> Result<Self, Self::Error> {
        Address::check(
            &raw.name,
            &raw.line1,
            raw.line2.as_deref(),
            &raw.city,
            &raw.postal_code,
            &raw.country,
        )
        .map_err(|problems| match problems.first() {
            Some(problem) => ValueError::InvalidAddress {
                field: problem.field,
                reason: problem.reason(),
            },
            None => ValueError::InvalidAddress {
                field: "address",
                reason: "is invalid",
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Address {
        Address::parse(
            " Ada Lovelace ",
            "12 St James's Square",
            Some("  "),
            "London",
            "SW1Y 4JH",
            "gb",
        )
        .unwrap()
    }

    #[test]
    fn it_should_trim_fields_and_normalise_the_country() {
        let address = valid();
        assert_eq!(address.name(), "Ada Lovelace");
        assert_eq!(address.line1(), "12 St James's Square");
        assert_eq!(address.line2(), None);
        assert_eq!(address.city(), "London");
        assert_eq!(address.postal_code(), "SW1Y 4JH");
        assert_eq!(address.country(), "GB");
    }

    #[test]
    fn it_should_keep_a_second_line() {
        let address =
            Address::parse("Ada", "Street 1", Some(" Flat 2 "), "Berlin", "10115", "DE").unwrap();
        assert_eq!(address.line2(), Some("Flat 2"));
    }

    #[test]
    fn it_should_report_every_invalid_field_at_once() {
        let long = "x".repeat(201);
        let errors =
            Address::parse("", &long, Some(&long), " ", &"1".repeat(21), "DEU").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, _)| *field).collect();
        assert_eq!(
            fields,
            ["name", "line1", "line2", "city", "postal_code", "country"]
        );
        assert_eq!(errors[0].1, "must not be empty");
        assert_eq!(errors[1].1, "must be at most 200 characters");
        assert_eq!(errors[4].1, "must be at most 20 characters");
        assert_eq!(errors[5].1, "must be a two-letter country code such as DE");
    }

    #[test]
    fn it_should_refuse_country_codes_that_are_not_two_letters() {
        for country in ["", "D", "D1", "DEU", "ÄÖ"] {
            let errors =
                Address::parse("Ada", "Street 1", None, "Berlin", "10115", country).unwrap_err();
            assert_eq!(errors.len(), 1, "{country:?}");
            assert_eq!(errors[0].0, "country");
        }
    }

    #[test]
    fn it_should_serialize_with_plain_field_names() {
        let json = serde_json::to_value(valid()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "Ada Lovelace",
                "line1": "12 St James's Square",
                "line2": null,
                "city": "London",
                "postal_code": "SW1Y 4JH",
                "country": "GB",
            })
        );
        assert_eq!(serde_json::from_value::<Address>(json).unwrap(), valid());
    }

    #[test]
    fn it_should_accept_a_missing_second_line_on_deserialize() {
        let json = serde_json::json!({
            "name": "Ada", "line1": "Street 1", "city": "Berlin",
            "postal_code": "10115", "country": "de",
        });
        let address: Address = serde_json::from_value(json).unwrap();
        assert_eq!(address.country(), "DE");
        assert_eq!(address.line2(), None);
    }

    #[test]
    fn it_should_refuse_an_invalid_address_on_deserialize() {
        let json = serde_json::json!({
            "name": "Ada", "line1": "", "city": "Berlin",
            "postal_code": "10115", "country": "DE",
        });
        let error = serde_json::from_value::<Address>(json).unwrap_err();
        assert!(error.to_string().contains("line1"), "{error}");
    }
}

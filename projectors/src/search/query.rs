//! What a catalog search asks, validated: the words of `q`, the filters, the order and the page.
//!
//! Every word of `q` must match a word of the name, description, SKU or category: exactly, within the typo
//! limit (one edit from 5 letters, two from 9, a transposition counting as one), or, for the last word, as a
//! prefix (search as you type). `sort=relevance` ranks by strict tiers — the exact SKU, then products whose
//! name holds every word, then the rest — and by BM25 over the exact terms within a tier ([`super::words`]).

use super::{whole_of, words_of};
use crate::store::query::CatalogSort;

/// At most this many characters in `q`.
pub const MAX_QUERY_CHARS: usize = 200;
/// At most this many words in `q`.
pub const MAX_QUERY_WORDS: usize = 10;
/// Paging stops here: `page × limit` may not exceed it.
pub const MAX_DEPTH: u64 = 10_000;

/// A catalog search: text, filters, order and page. Also the key of cached answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    /// The words of `q`, as the index holds them; empty without `q`.
    words: Vec<String>,
    /// `q` as a whole value, for the exact-SKU tier.
    whole: Option<String>,
    pub category: Option<String>,
    /// In minor units, inclusive.
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub in_stock: Option<bool>,
    sort: Option<CatalogSort>,
    pub page: u64,
    pub limit: u64,
}

/// A search that cannot be answered as asked (422).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("q may hold at most {MAX_QUERY_CHARS} characters")]
    TooLong,
    #[error("q may hold at most {MAX_QUERY_WORDS} words")]
    TooManyWords,
    #[error("page × limit may not exceed {MAX_DEPTH}; narrow the search instead")]
    TooDeep,
    #[error("min_price may not be above max_price")]
    PriceRange,
}

impl QueryError {
    /// The query parameter at fault.
    pub fn parameter(&self) -> &'static str {
        match self {
            Self::TooLong | Self::TooManyWords => "q",
            Self::TooDeep => "page",
            Self::PriceRange => "min_price",
        }
    }
}

impl SearchQuery {
    /// Validates a search. `sort` left out means relevance with `q`, name without.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        q: Option<&str>,
        category: Option<String>,
        min_price: Option<i64>,
        max_price: Option<i64>,
        in_stock: Option<bool>,
        sort: Option<CatalogSort>,
        page: u64,
        limit: u64,
    ) -> Result<Self, QueryError> {
        let q = q.map(str::trim).filter(|q| !q.is_empty());
        if q.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(QueryError::TooLong);
        }
        let words = q.map(words_of).unwrap_or_default();
        if words.len() > MAX_QUERY_WORDS {
            return Err(QueryError::TooManyWords);
        }
        if page
            .checked_mul(limit)
            .is_none_or(|depth| depth > MAX_DEPTH)
        {
            return Err(QueryError::TooDeep);
        }
        if let (Some(min), Some(max)) = (min_price, max_price)
            && min > max
        {
            return Err(QueryError::PriceRange);
        }
        Ok(Self {
            whole: q.map(whole_of).filter(|w| !w.is_empty()),
            words,
            category: category.filter(|c| !c.is_empty()),
            min_price,
            max_price,
            in_stock,
            sort,
            page: page.max(1),
            limit: limit.max(1),
        })
    }

    /// Every listed product, first page: for `GET /categories`.
    pub fn everything() -> Self {
        Self {
            words: Vec::new(),
            whole: None,
            category: None,
            min_price: None,
            max_price: None,
            in_stock: None,
            sort: None,
            page: 1,
            limit: 1,
        }
    }

    /// The order of the answer: as asked, else relevance with words and name without.
    pub fn effective_sort(&self) -> CatalogSort {
        match self.sort {
            Some(CatalogSort::Relevance) | None if self.words.is_empty() => CatalogSort::Name,
            Some(sort) => sort,
            None => CatalogSort::Relevance,
        }
    }

    /// Whether `q` holds any word: without, every listed product matches and no search index is asked.
    pub fn has_words(&self) -> bool {
        !self.words.is_empty()
    }

    /// The words of `q`, as the index holds them.
    pub(crate) fn words(&self) -> &[String] {
        &self.words
    }

    /// `q` as a whole value, as the index holds SKUs.
    pub(crate) fn whole(&self) -> Option<&str> {
        self.whole.as_deref()
    }
}

/// How many edits a word may be off by: none below 5 letters, one from 5, two from 9.
pub fn typo_limit(word: &str) -> u8 {
    match word.chars().count() {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> Result<SearchQuery, QueryError> {
        SearchQuery::new(Some(q), None, None, None, None, None, 1, 20)
    }

    #[test]
    fn it_should_allow_one_typo_from_five_letters_and_two_from_nine() {
        assert_eq!(typo_limit("shoe"), 0);
        assert_eq!(typo_limit("shirt"), 1);
        assert_eq!(typo_limit("trousers"), 1);
        assert_eq!(typo_limit("raincoats"), 2);
    }

    #[test]
    fn it_should_refuse_a_query_too_long_or_with_too_many_words() {
        assert_eq!(query(&"a".repeat(201)), Err(QueryError::TooLong));
        assert!(query(&"a".repeat(200)).is_ok());
        assert_eq!(
            query("one two three four five six seven eight nine ten eleven"),
            Err(QueryError::TooManyWords)
        );
    }

    #[test]
    fn it_should_refuse_paging_past_ten_thousand_and_a_reversed_price_range() {
        let page = |page, limit| SearchQuery::new(None, None, None, None, None, None, page, limit);
        assert!(page(100, 100).is_ok());
        assert_eq!(page(101, 100), Err(QueryError::TooDeep));
        assert_eq!(page(u64::MAX, 100), Err(QueryError::TooDeep));
        assert_eq!(
            SearchQuery::new(None, None, Some(500), Some(100), None, None, 1, 20),
            Err(QueryError::PriceRange)
        );
    }

    #[test]
    fn it_should_sort_by_relevance_with_words_and_by_name_without() {
        assert_eq!(
            query("blue").unwrap().effective_sort(),
            CatalogSort::Relevance
        );
        assert_eq!(
            SearchQuery::everything().effective_sort(),
            CatalogSort::Name
        );
    }

    #[test]
    fn it_should_fold_case_and_accents_of_the_words() {
        assert_eq!(query("Crème  BRÛLÉE").unwrap().words, ["creme", "brulee"]);
    }
}

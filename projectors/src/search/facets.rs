//! Facet counts for the current query: categories, price ranges and in stock. Each facet counts the products
//! that match the words and every other filter, but not its own, so that choosing a category still shows
//! the counts of the others. One pass over the products matching the words reads three fast columns per
//! product and applies the filters itself.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

use super::{Fields, SearchError, SearchQuery};

/// Upper bounds of the price buckets, in minor units of the catalog's currency (major units: under 10,
/// 10–25, 25–50, 50–100, 100–250, 250 and over).
const BOUNDS: [i64; 5] = [1_000, 2_500, 5_000, 10_000, 25_000];
/// Minor units per major unit: the catalog's currencies have two decimals.
const MINOR: i64 = 100;

/// The facets of one query.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Facets {
    /// Category and count, most first, then by name.
    pub categories: Vec<(String, u64)>,
    /// Non-empty price ranges, cheapest first.
    pub price: Vec<PriceBucket>,
    /// Products in stock.
    pub in_stock: u64,
}

/// Products priced from `min` (inclusive) to `max` (exclusive; `None`: no upper bound), in major units.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PriceBucket {
    pub min: i64,
    pub max: Option<i64>,
    pub count: u64,
}

/// The facets of `query` over the index `searcher` shows.
pub(crate) fn count(
    searcher: &tantivy::Searcher,
    fields: &Fields,
    query: &SearchQuery,
) -> Result<Facets, SearchError> {
    let text = query.text(fields);
    let counted = searcher.search(&*text, &FacetCollector { query })?;
    let mut categories: Vec<(String, u64)> = counted.categories.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let price = counted
        .buckets
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(n, count)| PriceBucket {
            min: if n == 0 { 0 } else { BOUNDS[n - 1] / MINOR },
            max: BOUNDS.get(n).map(|b| b / MINOR),
            count: *count,
        })
        .collect();
    Ok(Facets {
        categories,
        price,
        in_stock: counted.in_stock,
    })
}

/// The bucket of a price in minor units.
fn bucket(price: i64) -> usize {
    BOUNDS.partition_point(|bound| *bound <= price)
}

struct FacetCollector<'q> {
    query: &'q SearchQuery,
}

#[derive(Default)]
struct Counted {
    categories: HashMap<String, u64>,
    buckets: [u64; BOUNDS.len() + 1],
    in_stock: u64,
}

struct SegmentFacets {
    category: Option<StrColumn>,
    /// The ordinal of the category filter in this segment: `Some(None)` when it has no such category.
    wanted: Option<Option<u64>>,
    price: Column<i64>,
    stock: Column<bool>,
    min_price: i64,
    max_price: i64,
    in_stock: Option<bool>,
    by_category: Vec<u64>,
    buckets: [u64; BOUNDS.len() + 1],
    in_stock_count: u64,
}

impl Collector for FacetCollector<'_> {
    type Fruit = Counted;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = segment.fast_fields();
        let category = fast.str("category")?;
        let wanted = match &self.query.category {
            None => None,
            Some(name) => Some(match &category {
                Some(column) => column.dictionary().term_ord(name)?,
                None => None,
            }),
        };
        let terms = category.as_ref().map_or(0, |c| c.num_terms());
        Ok(SegmentFacets {
            category,
            wanted,
            price: fast.i64("price")?,
            stock: fast.bool("in_stock")?,
            min_price: self.query.min_price.unwrap_or(i64::MIN),
            max_price: self.query.max_price.unwrap_or(i64::MAX),
            in_stock: self.query.in_stock,
            by_category: vec![0; terms],
            buckets: [0; BOUNDS.len() + 1],
            in_stock_count: 0,
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Counted>) -> tantivy::Result<Counted> {
        let mut merged = Counted::default();
        for fruit in fruits {
            for (name, count) in fruit.categories {
                *merged.categories.entry(name).or_default() += count;
            }
            for (total, count) in merged.buckets.iter_mut().zip(fruit.buckets) {
                *total += count;
            }
            merged.in_stock += fruit.in_stock;
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = Counted;

    fn collect(&mut self, doc: DocId, _: Score) {
        let ord = self.category.as_ref().and_then(|c| c.term_ords(doc).next());
        let price = self.price.first(doc).unwrap_or(0);
        let stocked = self.stock.first(doc).unwrap_or(false);
        let category_ok = match self.wanted {
            None => true,
            Some(wanted) => wanted.is_some() && ord == wanted,
        };
        let price_ok = (self.min_price..=self.max_price).contains(&price);
        let stock_ok = self.in_stock.is_none_or(|wanted| wanted == stocked);
        if price_ok
            && stock_ok
            && let Some(ord) = ord
            && let Some(count) = self.by_category.get_mut(ord as usize)
        {
            *count += 1;
        }
        if category_ok && stock_ok {
            self.buckets[bucket(price)] += 1;
        }
        if category_ok && price_ok && stocked {
            self.in_stock_count += 1;
        }
    }

    fn harvest(self) -> Counted {
        let mut categories = HashMap::new();
        if let Some(column) = &self.category {
            let mut name = String::new();
            for (ord, count) in self.by_category.iter().enumerate() {
                if *count > 0 && column.ord_to_str(ord as u64, &mut name).unwrap_or(false) {
                    categories.insert(name.clone(), *count);
                }
            }
        }
        Counted {
            categories,
            buckets: self.buckets,
            in_stock: self.in_stock_count,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_put_each_price_in_its_bucket_by_major_units() {
        assert_eq!(bucket(999), 0);
        assert_eq!(bucket(1_000), 1);
        assert_eq!(bucket(2_499), 1);
        assert_eq!(bucket(24_999), 4);
        assert_eq!(bucket(25_000), 5);
        assert_eq!(bucket(i64::MAX), 5);
    }
}

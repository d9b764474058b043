//! Facet counts for the current query: categories, price ranges and in stock. Each facet counts the products
//! that match the words and every other filter, but not its own, so that choosing a category still shows
//! the counts of the others. With words, one pass over the rows matching them reads their filter values from
//! the table's columns and asks the query's [`Filter`] which filters they pass; the same pass counts the
//! total ([`count`]); with no filter set, the matches as bits over rows are intersected with the
//! generation's rows per category, price bucket and stock instead ([`count_open`]). Without words, the same
//! counts come from the generation's sorted price lists by binary searches ([`count_by_prices`]).

use super::table::{Filter, PriceLists, Table};

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

/// The facets of the listed `rows` under `filter`, and how many rows pass every filter.
pub(crate) fn count(
    table: &Table,
    filter: &Filter,
    rows: impl Iterator<Item = u32>,
) -> (Facets, u64) {
    let mut by_category = vec![0u64; table.categories.len()];
    let mut buckets = [0u64; BOUNDS.len() + 1];
    let mut in_stock = 0;
    let mut total = 0;
    for row in rows {
        let row = &table.rows[row as usize];
        let passes = filter.passes(row);
        if passes.price && passes.stock {
            by_category[row.category as usize] += 1;
        }
        if passes.category && passes.stock {
            buckets[bucket(row.price)] += 1;
        }
        if passes.category && passes.price {
            in_stock += u64::from(row.in_stock);
            total += u64::from(passes.stock);
        }
    }
    (assemble(table, by_category, buckets, in_stock), total)
}

/// The same facets and total as [`count`] over every listed row, for a query without words: from the
/// generation's price lists, by binary searches per category and per price bucket instead of a pass.
pub(crate) fn count_by_prices(table: &Table, lists: &PriceLists, filter: &Filter) -> (Facets, u64) {
    let (min, max) = filter.price_range();
    let (category, stock) = (filter.category(), filter.in_stock());
    let by_category = (0..table.categories.len() as u32)
        .map(|number| lists.count(Some(Some(number)), stock, min, max))
        .collect();
    let mut buckets = [0u64; BOUNDS.len() + 1];
    for (n, count) in buckets.iter_mut().enumerate() {
        let low = if n == 0 { i64::MIN } else { BOUNDS[n - 1] };
        let high = BOUNDS.get(n).map_or(i64::MAX, |bound| bound - 1);
        *count = lists.count(category, stock, low, high);
    }
    let in_stock = lists.count(category, Some(true), min, max);
    let total = lists.count(category, stock, min, max);
    (assemble(table, by_category, buckets, in_stock), total)
}

/// The listed rows of one generation as sets of bits per category, per price bucket and in stock: an
/// unfiltered search with words counts its facets by intersecting its matches with them ([`count_open`]).
/// Built once per generation, when first asked.
#[derive(Debug, Default)]
pub(crate) struct RowSets {
    listed: Vec<u64>,
    categories: Vec<Vec<u64>>,
    buckets: [Vec<u64>; BOUNDS.len() + 1],
    in_stock: Vec<u64>,
}

impl RowSets {
    pub fn of(table: &Table) -> Self {
        let words = table.rows.len().div_ceil(64);
        let empty = || vec![0u64; words];
        let mut sets = Self {
            listed: empty(),
            categories: vec![empty(); table.categories.len()],
            buckets: std::array::from_fn(|_| empty()),
            in_stock: empty(),
        };
        for (n, row) in table.rows.iter().enumerate().filter(|(_, row)| row.listed) {
            let (word, bit) = (n / 64, 1u64 << (n % 64));
            sets.listed[word] |= bit;
            sets.categories[row.category as usize][word] |= bit;
            sets.buckets[bucket(row.price)][word] |= bit;
            if row.in_stock {
                sets.in_stock[word] |= bit;
            }
        }
        sets
    }
}

/// The same facets and total as [`count`] with no filter set: the matching rows as bits, intersected with
/// each category's, price bucket's and the in-stock rows (a popcount per word instead of a pass per row).
pub(crate) fn count_open(
    table: &Table,
    sets: &RowSets,
    rows: impl Iterator<Item = u32>,
) -> (Facets, u64) {
    let mut matching = vec![0u64; sets.listed.len()];
    for row in rows {
        matching[row as usize / 64] |= 1 << (row % 64);
    }
    let overlap = |set: &[u64]| -> u64 {
        matching
            .iter()
            .zip(set)
            .map(|(a, b)| u64::from((a & b).count_ones()))
            .sum()
    };
    let by_category = sets.categories.iter().map(|set| overlap(set)).collect();
    let buckets = std::array::from_fn(|n| overlap(&sets.buckets[n]));
    let in_stock = overlap(&sets.in_stock);
    let total = overlap(&sets.listed);
    (assemble(table, by_category, buckets, in_stock), total)
}

/// The facets from their counts: categories by number, buckets in order.
fn assemble(
    table: &Table,
    by_category: Vec<u64>,
    buckets: [u64; BOUNDS.len() + 1],
    in_stock: u64,
) -> Facets {
    let mut categories: Vec<(String, u64)> = by_category
        .into_iter()
        .enumerate()
        .filter(|(_, count)| *count > 0)
        .map(|(number, count)| (table.categories[number].clone(), count))
        .collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let price = buckets
        .iter()
        .enumerate()
        .filter(|(_, count)| **count > 0)
        .map(|(n, count)| PriceBucket {
            min: if n == 0 { 0 } else { BOUNDS[n - 1] / MINOR },
            max: BOUNDS.get(n).map(|b| b / MINOR),
            count: *count,
        })
        .collect();
    Facets {
        categories,
        price,
        in_stock,
    }
}

/// The bucket of a price in minor units.
fn bucket(price: i64) -> usize {
    BOUNDS.partition_point(|bound| *bound <= price)
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

//! The catalog's documents and what listings filter, count and sort by, in plain columns indexed by row (one
//! row per product ever created, numbered as they come). The tantivy index finds the rows that match the
//! words of a query; everything else — the filters, the facet counts, the four orders and the page — is read
//! from here, so that a listing without words never walks a search index. A query's filters are resolved
//! once ([`Filter`]) and evaluated per row ([`Filter::passes`]) or, for a listing without words, as ranges
//! over the sorted price lists ([`PriceLists`]); the facet property test holds both to a brute-force count.
//!
//! The runner changes a [`Working`] copy; each publication hands searchers an immutable [`Table`] whose
//! columns are shared with the working copy until it next writes them (copy on write). The orders are kept
//! sorted as products change (B-trees keyed by the sort value and the product id) and copied out into arrays
//! only when a publication follows a change to names, prices or the listed set: stock churn leaves them as
//! they are.

use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap};
use std::ops::Deref;
use std::sync::{Arc, OnceLock};

use eventstore::StoredEvent;

use super::whole_of;
use crate::View;
use crate::store::query::CatalogSort;
use crate::views::catalog::CatalogProduct;

/// What a listing filters on, per row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Row {
    /// In minor units.
    pub price: i64,
    /// The category's number in [`Table::categories`].
    pub category: u32,
    pub listed: bool,
    pub in_stock: bool,
}

/// The listed rows in one order, ties broken by product id.
#[derive(Debug, Default)]
pub(crate) struct Order {
    /// Listed rows, first to last.
    pub rows: Vec<u32>,
    /// Each row's place in `rows`; `u32::MAX` for a row not listed.
    pub rank: Vec<u32>,
}

impl Order {
    fn of(rows: impl Iterator<Item = u32>, len: usize) -> Self {
        let rows: Vec<u32> = rows.collect();
        let mut rank = vec![u32::MAX; len];
        for (place, row) in rows.iter().enumerate() {
            rank[*row as usize] = place as u32;
        }
        Self { rows, rank }
    }
}

/// A product as the catalog shows it, with its rendering for the API: made by the first answer that lists
/// the product and kept until the product changes, so that a page of products is mostly copied, not
/// serialized again for every answer.
#[derive(Debug, Clone, Default)]
pub struct Shown {
    product: CatalogProduct,
    rendered: OnceLock<Box<str>>,
}

impl Shown {
    /// The product rendered by `render`, the first time it is asked for; the same text after that.
    pub fn rendered(&self, render: impl FnOnce(&CatalogProduct) -> String) -> &str {
        self.rendered
            .get_or_init(|| render(&self.product).into_boxed_str())
    }

    /// Applies a product event; the rendering is made again when next asked for.
    fn update(&mut self, event: &StoredEvent) -> Result<(), crate::ViewError> {
        self.rendered = OnceLock::new();
        self.product.update(event)
    }
}

impl Deref for Shown {
    type Target = CatalogProduct;

    fn deref(&self) -> &CatalogProduct {
        &self.product
    }
}

/// One published generation of the catalog: what searches read. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub(crate) struct Table {
    pub rows: Arc<Vec<Row>>,
    /// Every product ever created, listed or not, as the catalog shows it.
    pub docs: Arc<Vec<Arc<Shown>>>,
    /// Each row's product id as a number that sorts as the id's text does: ties are broken by it.
    pub ids: Arc<Vec<u128>>,
    /// Category names by number.
    pub categories: Arc<Vec<String>>,
    category_numbers: Arc<HashMap<String, u32>>,
    by_name: Arc<Order>,
    by_price: Arc<Order>,
    by_price_desc: Arc<Order>,
    newest: Arc<Order>,
}

impl Table {
    /// The listed rows in the order `sort` asks for (relevance has none of its own: it is the search's).
    pub fn order(&self, sort: CatalogSort) -> &Order {
        match sort {
            CatalogSort::Relevance | CatalogSort::Name => &self.by_name,
            CatalogSort::PriceAsc => &self.by_price,
            CatalogSort::PriceDesc => &self.by_price_desc,
            CatalogSort::Newest => &self.newest,
        }
    }

    /// Listed products.
    pub fn listed_count(&self) -> usize {
        self.by_name.rows.len()
    }

    /// The listed rows, in row order (the columns are read front to back).
    pub fn listed_rows(&self) -> impl Iterator<Item = u32> + '_ {
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, row)| row.listed)
            .map(|(n, _)| n as u32)
    }

    /// The filter of a query over this generation.
    pub fn filter(
        &self,
        category: Option<&str>,
        min_price: Option<i64>,
        max_price: Option<i64>,
        in_stock: Option<bool>,
    ) -> Filter {
        Filter {
            category: category.map(|name| self.category_numbers.get(name).copied()),
            min_price: min_price.unwrap_or(i64::MIN),
            max_price: max_price.unwrap_or(i64::MAX),
            in_stock,
        }
    }
}

/// A query's filters, resolved against one [`Table`]: the only place they are decided.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Filter {
    /// `Some(None)`: a category no product was ever in.
    category: Option<Option<u32>>,
    min_price: i64,
    max_price: i64,
    in_stock: Option<bool>,
}

/// Which of a query's filters a row passes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Passes {
    pub category: bool,
    pub price: bool,
    pub stock: bool,
}

impl Passes {
    pub fn all(self) -> bool {
        self.category && self.price && self.stock
    }
}

impl Filter {
    /// The category asked for: `None` any, `Some(None)` one no product was ever in.
    pub fn category(&self) -> Option<Option<u32>> {
        self.category
    }

    /// The prices asked for, both ends included.
    pub fn price_range(&self) -> (i64, i64) {
        (self.min_price, self.max_price)
    }

    /// In stock or not, as asked; `None` either.
    pub fn in_stock(&self) -> Option<bool> {
        self.in_stock
    }

    /// Whether the filter lets every listed row pass.
    pub fn is_open(&self) -> bool {
        self.category.is_none()
            && self.min_price == i64::MIN
            && self.max_price == i64::MAX
            && self.in_stock.is_none()
    }

    pub fn passes(&self, row: &Row) -> Passes {
        Passes {
            category: self
                .category
                .is_none_or(|wanted| wanted == Some(row.category)),
            price: self.min_price <= row.price && row.price <= self.max_price,
            stock: self.in_stock.is_none_or(|wanted| wanted == row.in_stock),
        }
    }
}

/// The listed rows' prices by category and stock, each list ascending: a query without words counts the
/// rows that pass its filters by binary searches instead of a pass over every row. Built once per
/// generation, when first asked.
#[derive(Debug, Default)]
pub(crate) struct PriceLists {
    /// By category number: the prices of the rows out of stock, then of those in stock.
    lists: Vec<[Vec<i64>; 2]>,
}

impl PriceLists {
    pub fn of(table: &Table) -> Self {
        let mut lists = vec![[Vec::new(), Vec::new()]; table.categories.len()];
        for row in table.rows.iter().filter(|row| row.listed) {
            lists[row.category as usize][usize::from(row.in_stock)].push(row.price);
        }
        for list in lists.iter_mut().flatten() {
            list.sort_unstable();
        }
        Self { lists }
    }

    /// Listed rows in `category` (as [`Filter::category`] has it), in stock as `stock` (either with
    /// `None`), priced from `min` to `max`, both included.
    pub fn count(
        &self,
        category: Option<Option<u32>>,
        stock: Option<bool>,
        min: i64,
        max: i64,
    ) -> u64 {
        if min > max {
            return 0;
        }
        let categories: &[[Vec<i64>; 2]] = match category {
            None => &self.lists,
            Some(None) => &[],
            Some(Some(number)) => self
                .lists
                .get(number as usize)
                .map_or(&[][..], std::slice::from_ref),
        };
        categories
            .iter()
            .flat_map(|pair| pair.iter().enumerate())
            .filter(|(in_stock, _)| stock.is_none_or(|wanted| usize::from(wanted) == *in_stock))
            .map(|(_, prices)| {
                (prices.partition_point(|p| *p <= max) - prices.partition_point(|p| *p < min))
                    as u64
            })
            .sum()
    }
}

/// Where a listed row is filed in the orders.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Filed {
    name: String,
    /// The name as it sorts: lower-case, accents folded.
    name_key: String,
    price: i64,
    created: i64,
    id: u128,
}

/// The runner's copy: changed by [`Working::apply`], handed out by [`Working::publish`].
#[derive(Default)]
pub(crate) struct Working {
    table: Table,
    numbers: HashMap<String, u32>,
    filed: Vec<Option<Filed>>,
    by_name: BTreeSet<(String, u128, u32)>,
    by_price: BTreeSet<(i64, u128, u32)>,
    by_price_desc: BTreeSet<(Reverse<i64>, u128, u32)>,
    newest: BTreeSet<(Reverse<i64>, u128, u32)>,
    /// The orders changed since the last publication.
    reordered: bool,
    /// Rows whose words or listing changed since the last publication: the search index must be given their
    /// documents again.
    changed: Vec<u32>,
}

impl Working {
    /// Applies one event; `false` if it is not a product's.
    pub fn apply(&mut self, event: &StoredEvent) -> Result<bool, crate::ViewError> {
        let Some(id) = CatalogProduct::key(event) else {
            return Ok(false);
        };
        let row = match self.numbers.get(&id) {
            Some(row) => *row,
            None => {
                let row = self.table.docs.len() as u32;
                Arc::make_mut(&mut self.table.ids).push(id_number(&id));
                Arc::make_mut(&mut self.table.docs).push(Arc::default());
                Arc::make_mut(&mut self.table.rows).push(Row::default());
                self.filed.push(None);
                self.numbers.insert(id, row);
                row
            }
        };
        let docs = Arc::make_mut(&mut self.table.docs);
        Arc::make_mut(&mut docs[row as usize]).update(event)?;
        let was_listed = self.table.rows[row as usize].listed;
        self.refile(row);
        // Stock and images live in the table only: the search index is given the row again only when its
        // words may have changed, or whether it holds the row at all.
        let words_kept = TABLE_ONLY.contains(&event.event_type.as_str());
        if !words_kept || was_listed != self.table.rows[row as usize].listed {
            self.changed.push(row);
        }
        Ok(true)
    }

    /// Products ever created.
    pub fn product_count(&self) -> usize {
        self.numbers.len()
    }

    /// The rows changed since the last publication, each once; the caller re-indexes them.
    pub fn take_changed(&mut self) -> Vec<u32> {
        let mut changed = std::mem::take(&mut self.changed);
        changed.sort_unstable();
        changed.dedup();
        changed
    }

    /// The current state as a table for searchers; the orders are copied out only if they changed.
    pub fn publish(&mut self) -> Table {
        if self.reordered {
            let len = self.table.rows.len();
            self.table.by_name = Arc::new(Order::of(self.by_name.iter().map(|k| k.2), len));
            self.table.by_price = Arc::new(Order::of(self.by_price.iter().map(|k| k.2), len));
            self.table.by_price_desc =
                Arc::new(Order::of(self.by_price_desc.iter().map(|k| k.2), len));
            self.table.newest = Arc::new(Order::of(self.newest.iter().map(|k| k.2), len));
            self.reordered = false;
        }
        self.table.clone()
    }

    pub fn doc(&self, row: u32) -> &CatalogProduct {
        &self.table.docs[row as usize]
    }

    pub fn is_listed(&self, row: u32) -> bool {
        self.table.rows[row as usize].listed
    }

    /// Brings a row's filter values and its places in the orders in line with its document.
    fn refile(&mut self, row: u32) {
        let doc = self.table.docs[row as usize].clone();
        let listed = listed(&doc);
        let category = match self.table.category_numbers.get(&doc.category) {
            Some(number) => *number,
            None => {
                let number = self.table.categories.len() as u32;
                Arc::make_mut(&mut self.table.categories).push(doc.category.clone());
                Arc::make_mut(&mut self.table.category_numbers)
                    .insert(doc.category.clone(), number);
                number
            }
        };
        let values = Row {
            price: doc.price_key,
            category,
            listed,
            in_stock: doc.in_stock,
        };
        if self.table.rows[row as usize] != values {
            Arc::make_mut(&mut self.table.rows)[row as usize] = values;
        }
        let was = &self.filed[row as usize];
        let unchanged = match (was, listed) {
            (None, false) => true,
            (Some(was), true) => {
                was.name == doc.name && was.price == doc.price_key && was.created == doc.created_key
            }
            _ => false,
        };
        if unchanged {
            return;
        }
        if let Some(was) = self.filed[row as usize].take() {
            self.by_name.remove(&(was.name_key, was.id, row));
            self.by_price.remove(&(was.price, was.id, row));
            self.by_price_desc
                .remove(&(Reverse(was.price), was.id, row));
            self.newest.remove(&(Reverse(was.created), was.id, row));
        }
        if listed {
            let filed = Filed {
                name: doc.name.clone(),
                name_key: whole_of(&doc.name),
                price: doc.price_key,
                created: doc.created_key,
                id: self.table.ids[row as usize],
            };
            self.by_name.insert((filed.name_key.clone(), filed.id, row));
            self.by_price.insert((filed.price, filed.id, row));
            self.by_price_desc
                .insert((Reverse(filed.price), filed.id, row));
            self.newest.insert((Reverse(filed.created), filed.id, row));
            self.filed[row as usize] = Some(filed);
        }
        self.reordered = true;
    }
}

/// Product events that change none of a document's words (name, description, SKU, category): the stock's
/// and the images'. Any other event, including one added later, gives the search index the row again.
const TABLE_ONLY: [&str; 7] = [
    "StockAdjusted",
    "StockReserved",
    "ReservationCommitted",
    "ReservationReleased",
    "ProductImageAdded",
    "ProductImagesReordered",
    "ProductImageRemoved",
];

/// A product is listed once it has a price and until it is discontinued.
pub(crate) fn listed(product: &CatalogProduct) -> bool {
    !product.discontinued && product.price.is_some()
}

/// A product id as a number that sorts as its text does (ids are UUIDs, written in lower-case hex); an id
/// that is not one sorts first.
fn id_number(id: &str) -> u128 {
    uuid::Uuid::parse_str(id).map_or(0, |id| id.as_u128())
}

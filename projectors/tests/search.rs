//! The catalog index on its own, fed with product events as the feed delivers them: ranking, typo and prefix
//! rules, facets against a brute-force count over random catalogs, and a rebuild equal to the live index.

use chrono::{TimeZone, Utc};
use cqrs_es::DomainEvent;
use domain::product::ProductEvent;
use domain::{Currency, Money, OrderId, ProductId, Sku};
use eventstore::{Position, StoredEvent};
use projectors::search::{CatalogIndex, Found, SearchQuery};
use projectors::store::query::CatalogSort;
use projectors::views::catalog::CatalogProduct;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Builds the feed's events in order, with positions.
#[derive(Default)]
struct Feed {
    events: Vec<StoredEvent>,
    sequences: std::collections::HashMap<String, i64>,
}

impl Feed {
    fn push(&mut self, product: &str, event: ProductEvent) {
        let sequence = self.sequences.entry(product.to_owned()).or_default();
        *sequence += 1;
        let position = self.events.len() as i64 + 1;
        self.events.push(StoredEvent {
            position: Position::new(position as u64, position),
            event_id: Uuid::now_v7(),
            aggregate_type: "product".to_owned(),
            aggregate_id: product.to_owned(),
            sequence: *sequence,
            event_type: event.event_type(),
            event_version: "1.0".to_owned(),
            payload: serde_json::to_value(&event).unwrap(),
            metadata: serde_json::json!({}),
            recorded_at: Utc::now(),
            hash: String::new(),
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn create(
        &mut self,
        n: u128,
        sku: &str,
        name: &str,
        description: &str,
        category: &str,
        cents: i64,
        stock: u32,
    ) -> String {
        let id = Uuid::from_u128(n).to_string();
        self.push(
            &id,
            ProductEvent::ProductCreated {
                product_id: ProductId::new(Uuid::from_u128(n)),
                sku: Sku::parse(sku).unwrap(),
                name: name.to_owned(),
                description: description.to_owned(),
                category: category.to_owned(),
                price: Money::new(cents, Currency::EUR).unwrap(),
                stock,
                created_at: Utc.timestamp_opt(1_700_000_000 + n as i64, 0).unwrap(),
            },
        );
        id
    }

    /// An order holds the product's last unit.
    fn reserve_last(&mut self, product: &str) {
        self.push(
            product,
            ProductEvent::StockReserved {
                order_id: OrderId::new(Uuid::from_u128(9)),
                quantity: 1,
                expires_at: Utc::now(),
                available: 0,
                reserved_at: Utc::now(),
            },
        );
    }

    fn last(&self) -> Position {
        self.events.last().map_or(Position::START, |e| e.position)
    }
}

fn index_of(feed: &Feed) -> CatalogIndex {
    let index = CatalogIndex::new().unwrap();
    index.apply(&feed.events).unwrap();
    index.publish(feed.last()).unwrap();
    index
}

fn search(index: &CatalogIndex, q: &str) -> Vec<String> {
    let query = SearchQuery::new(Some(q), None, None, None, None, None, 1, 100).unwrap();
    names(&index.search(&query).unwrap())
}

fn names(found: &Found) -> Vec<String> {
    found.items.iter().map(|p| p.name.clone()).collect()
}

#[test]
fn every_word_matches_exactly_within_its_typo_limit_or_the_last_as_a_prefix() {
    let mut feed = Feed::default();
    feed.create(1, "SHIRT-1", "Blue Shirt", "Soft cotton", "Shirts", 1999, 3);
    feed.create(
        2,
        "RAIN-1",
        "Yellow Raincoats",
        "Keeps you dry",
        "Coats",
        8999,
        2,
    );
    feed.create(3, "MUG-1", "Blue Mug", "Stoneware", "Kitchen", 900, 5);
    let index = index_of(&feed);

    assert_eq!(search(&index, "blue shirt"), ["Blue Shirt"]);
    assert_eq!(
        search(&index, "blue shi"),
        ["Blue Shirt"],
        "the last word as a prefix"
    );
    assert_eq!(
        search(&index, "blue shrit"),
        ["Blue Shirt"],
        "a transposition is one edit"
    );
    assert_eq!(
        search(&index, "blu shirt"),
        Vec::<String>::new(),
        "only the last word is a prefix"
    );
    assert_eq!(
        search(&index, "bleu mug"),
        Vec::<String>::new(),
        "no typo below five letters"
    );
    assert_eq!(
        search(&index, "rainkoatz"),
        ["Yellow Raincoats"],
        "two edits from nine letters"
    );
    assert!(search(&index, "rainkoatzz").is_empty(), "not three");
    assert_eq!(
        search(&index, "COTTON"),
        ["Blue Shirt"],
        "the description counts, in any case"
    );
    assert_eq!(search(&index, "kitchen"), ["Blue Mug"], "and the category");
}

#[test]
fn an_exact_sku_ranks_first_then_a_name_holding_every_word_then_the_rest() {
    let mut feed = Feed::default();
    feed.create(
        1,
        "LAMP-9",
        "Desk Light",
        "A lamp for the desk",
        "Home",
        3000,
        1,
    );
    feed.create(2, "LIGHT-1", "Lamp", "Bright", "Home", 2000, 1);
    feed.create(
        3,
        "LAMP",
        "Torch",
        "Not a lamp at all, lamp lamp",
        "Home",
        1000,
        1,
    );
    let index = index_of(&feed);

    assert_eq!(
        search(&index, "lamp"),
        ["Torch", "Lamp", "Desk Light"],
        "the exact SKU first, then the name, then the description"
    );
}

#[test]
fn stock_churn_discontinuation_and_renames_move_products_in_and_out() {
    let mut feed = Feed::default();
    let id = feed.create(1, "K-1", "Kettle", "Boils", "Kitchen", 2500, 1);
    let index = index_of(&feed);
    let in_stock = SearchQuery::new(None, None, None, None, Some(true), None, 1, 10).unwrap();
    assert_eq!(index.search(&in_stock).unwrap().total, 1);

    feed.reserve_last(&id);
    feed.push(
        &id,
        ProductEvent::ProductDetailsUpdated {
            name: Some("Teapot".to_owned()),
            description: None,
            category: None,
            price: None,
            updated_at: Utc::now(),
        },
    );
    index.apply(&feed.events[1..]).unwrap();
    assert_eq!(
        index.search(&in_stock).unwrap().total,
        1,
        "nothing shows before it is published"
    );
    index.publish(feed.last()).unwrap();
    assert_eq!(index.served(), Some(feed.last()));
    assert_eq!(index.search(&in_stock).unwrap().total, 0);
    assert_eq!(search(&index, "teapot"), ["Teapot"]);
    assert!(search(&index, "kettle").is_empty());

    feed.push(
        &id,
        ProductEvent::ProductDiscontinued {
            discontinued_at: Utc::now(),
        },
    );
    index.apply(&feed.events[3..]).unwrap();
    index.publish(feed.last()).unwrap();
    assert!(search(&index, "teapot").is_empty());
    assert!(index.categories().unwrap().is_empty());
}

#[test]
fn a_stock_change_is_published_without_committing_the_words_again() {
    let mut feed = Feed::default();
    let id = feed.create(1, "K-1", "Kettle", "Boils", "Kitchen", 2500, 1);
    feed.create(2, "M-1", "Mug", "Holds tea", "Kitchen", 900, 5);
    let index = index_of(&feed);
    let commits = index.search_index_commits();
    let in_stock =
        SearchQuery::new(Some("kettle"), None, None, None, Some(true), None, 1, 10).unwrap();
    assert_eq!(index.search(&in_stock).unwrap().total, 1);

    feed.reserve_last(&id);
    index.apply(&feed.events[2..]).unwrap();
    index.publish(feed.last()).unwrap();
    assert_eq!(index.served(), Some(feed.last()));
    assert_eq!(
        index.search(&in_stock).unwrap().total,
        0,
        "the new stock shows"
    );
    assert_eq!(
        search(&index, "kettle"),
        ["Kettle"],
        "the words still find it"
    );
    assert_eq!(
        index.search_index_commits(),
        commits,
        "stock is not in the search index"
    );

    feed.push(
        &id,
        ProductEvent::ProductDetailsUpdated {
            name: None,
            description: Some("Whistles when it boils".to_owned()),
            category: None,
            price: None,
            updated_at: Utc::now(),
        },
    );
    index.apply(&feed.events[3..]).unwrap();
    index.publish(feed.last()).unwrap();
    assert_eq!(search(&index, "whistles"), ["Kettle"]);
    assert_eq!(index.search_index_commits(), commits + 1);
}

/// A random catalog: products with random words, categories, prices and stock, some renamed, some
/// discontinued, some sold out.
fn random_feed(rng: &mut StdRng, products: u128) -> Feed {
    const WORDS: [&str; 8] = [
        "blue",
        "shirt",
        "mug",
        "lamp",
        "stoneware",
        "cotton",
        "raincoat",
        "desk",
    ];
    const CATEGORIES: [&str; 4] = ["Shirts", "Kitchen", "Home", "Coats"];
    let mut feed = Feed::default();
    for n in 1..=products {
        let word = |rng: &mut StdRng| WORDS[rng.random_range(0..WORDS.len())];
        let name = format!("{} {}", word(rng), word(rng));
        let id = feed.create(
            n,
            &format!("SKU-{n}"),
            &name,
            word(rng),
            CATEGORIES[rng.random_range(0..CATEGORIES.len())],
            rng.random_range(100..40_000),
            rng.random_range(0..3),
        );
        match rng.random_range(0..10) {
            0 => feed.push(
                &id,
                ProductEvent::ProductDiscontinued {
                    discontinued_at: Utc::now(),
                },
            ),
            1 => feed.push(
                &id,
                ProductEvent::ProductDetailsUpdated {
                    name: Some(format!("{} {}", word(rng), word(rng))),
                    description: None,
                    category: Some(CATEGORIES[rng.random_range(0..CATEGORIES.len())].to_owned()),
                    price: Some(Money::new(rng.random_range(100..40_000), Currency::EUR).unwrap()),
                    updated_at: Utc::now(),
                },
            ),
            _ => {}
        }
    }
    feed
}

/// What the query should find, by brute force over the documents: the words as whole words, no typos.
fn brute_force(listed: &[CatalogProduct], query: &Brute) -> (u64, Vec<(String, u64)>, u64) {
    let words_of = |p: &CatalogProduct| -> Vec<String> {
        format!("{} {} {} {}", p.name, p.description, p.sku, p.category)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let text = |p: &CatalogProduct| query.word.as_ref().is_none_or(|w| words_of(p).contains(w));
    let category = |p: &CatalogProduct| query.category.as_ref().is_none_or(|c| &p.category == c);
    let price = |p: &CatalogProduct| {
        query.min_price.is_none_or(|m| p.price_key >= m)
            && query.max_price.is_none_or(|m| p.price_key <= m)
    };
    let stock = |p: &CatalogProduct| query.in_stock.is_none_or(|s| p.in_stock == s);
    let total = listed
        .iter()
        .filter(|p| text(p) && category(p) && price(p) && stock(p))
        .count() as u64;
    let mut categories: std::collections::BTreeMap<String, u64> = Default::default();
    for p in listed.iter().filter(|p| text(p) && price(p) && stock(p)) {
        *categories.entry(p.category.clone()).or_default() += 1;
    }
    let mut categories: Vec<(String, u64)> = categories.into_iter().collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let in_stock = listed
        .iter()
        .filter(|p| text(p) && category(p) && price(p) && p.in_stock)
        .count() as u64;
    (total, categories, in_stock)
}

struct Brute {
    word: Option<String>,
    category: Option<String>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    in_stock: Option<bool>,
}

impl Brute {
    /// Whether a listed product matches the word and passes every filter.
    fn admits(&self, p: &CatalogProduct) -> bool {
        let words = format!("{} {} {} {}", p.name, p.description, p.sku, p.category);
        let mut words = words
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_lowercase);
        self.word.as_ref().is_none_or(|w| words.any(|x| &x == w))
            && self.category.as_ref().is_none_or(|c| &p.category == c)
            && self.min_price.is_none_or(|m| p.price_key >= m)
            && self.max_price.is_none_or(|m| p.price_key <= m)
            && self.in_stock.is_none_or(|s| p.in_stock == s)
    }
}

#[test]
fn facet_counts_equal_a_brute_force_count_over_random_catalogs_and_queries() {
    let mut rng = StdRng::seed_from_u64(12);
    for _ in 0..5 {
        let feed = random_feed(&mut rng, 300);
        let index = index_of(&feed);
        let listed = index.listed();
        for _ in 0..40 {
            // Words of four letters or fewer match exactly (no typo, and a whole word as the last word's
            // prefix only matches itself or longer words: so the brute force uses whole, distinct words).
            let word = ["mug", "lamp", "desk", "blue"][rng.random_range(0..4)];
            let brute = Brute {
                word: rng.random_bool(0.6).then(|| word.to_owned()),
                category: rng.random_bool(0.5).then(|| {
                    ["Shirts", "Kitchen", "Home", "Coats"][rng.random_range(0..4)].to_owned()
                }),
                min_price: rng.random_bool(0.3).then(|| rng.random_range(100..5_000)),
                max_price: rng
                    .random_bool(0.5)
                    .then(|| rng.random_range(5_000..40_000)),
                in_stock: rng.random_bool(0.5).then(|| rng.random_bool(0.5)),
            };
            let query = SearchQuery::new(
                brute.word.as_deref(),
                brute.category.clone(),
                brute.min_price,
                brute.max_price,
                brute.in_stock,
                Some(CatalogSort::Name),
                1,
                20,
            )
            .unwrap();
            let found = index.search(&query).unwrap();
            let (total, categories, in_stock) = brute_force(&listed, &brute);
            assert_eq!(found.total, total, "total of {query:?}");
            assert_eq!(
                found.facets.categories, categories,
                "categories of {query:?}"
            );
            assert_eq!(found.facets.in_stock, in_stock, "in stock of {query:?}");
            let priced: u64 = found.facets.price.iter().map(|b| b.count).sum();
            let unpriced = Brute {
                word: brute.word.clone(),
                category: brute.category.clone(),
                min_price: None,
                max_price: None,
                in_stock: brute.in_stock,
            };
            assert_eq!(
                priced,
                brute_force(&listed, &unpriced).0,
                "price buckets of {query:?}"
            );
            let mut buckets = [0u64; 6];
            for p in listed.iter().filter(|p| unpriced.admits(p)) {
                buckets[[1_000, 2_500, 5_000, 10_000, 25_000]
                    .partition_point(|b| *b <= p.price_key)] += 1;
            }
            let expected: Vec<u64> = buckets.into_iter().filter(|count| *count > 0).collect();
            let counted: Vec<u64> = found.facets.price.iter().map(|b| b.count).collect();
            assert_eq!(counted, expected, "each price bucket of {query:?}");
        }
    }
}

#[test]
fn pages_follow_each_order_with_ties_broken_by_id_over_random_catalogs_and_queries() {
    let mut rng = StdRng::seed_from_u64(21);
    for _ in 0..4 {
        let feed = random_feed(&mut rng, 300);
        let index = index_of(&feed);
        let listed = index.listed();
        for _ in 0..40 {
            let brute = Brute {
                word: rng
                    .random_bool(0.5)
                    .then(|| ["mug", "lamp", "desk", "blue"][rng.random_range(0..4)].to_owned()),
                category: rng.random_bool(0.4).then(|| {
                    ["Shirts", "Kitchen", "Home", "Coats"][rng.random_range(0..4)].to_owned()
                }),
                min_price: None,
                max_price: rng.random_bool(0.4).then(|| rng.random_range(100..40_000)),
                in_stock: rng.random_bool(0.3).then(|| rng.random_bool(0.5)),
            };
            let sort = [
                CatalogSort::Name,
                CatalogSort::PriceAsc,
                CatalogSort::PriceDesc,
                CatalogSort::Newest,
            ][rng.random_range(0..4)];
            let (page, limit) = (rng.random_range(1..=4), rng.random_range(1..=15));
            let query = SearchQuery::new(
                brute.word.as_deref(),
                brute.category.clone(),
                None,
                brute.max_price,
                brute.in_stock,
                Some(sort),
                page,
                limit,
            )
            .unwrap();
            let found: Vec<String> = index
                .search(&query)
                .unwrap()
                .items
                .iter()
                .map(|p| p.id.clone())
                .collect();

            let mut expected: Vec<&CatalogProduct> =
                listed.iter().filter(|p| brute.admits(p)).collect();
            expected.sort_by(|a, b| {
                let by = match sort {
                    CatalogSort::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
                    CatalogSort::PriceAsc => a.price_key.cmp(&b.price_key),
                    CatalogSort::PriceDesc => b.price_key.cmp(&a.price_key),
                    _ => b.created_key.cmp(&a.created_key),
                };
                by.then_with(|| a.id.cmp(&b.id))
            });
            let expected: Vec<String> = expected
                .into_iter()
                .skip(((page - 1) * limit) as usize)
                .take(limit as usize)
                .map(|p| p.id.clone())
                .collect();
            assert_eq!(found, expected, "{query:?}");
        }
    }
}

#[test]
fn an_index_built_in_one_go_equals_one_kept_current_batch_by_batch() {
    let mut rng = StdRng::seed_from_u64(7);
    let feed = random_feed(&mut rng, 500);
    let rebuilt = index_of(&feed);
    let live = CatalogIndex::new().unwrap();
    for batch in feed.events.chunks(37) {
        live.apply(batch).unwrap();
        live.publish(batch.last().unwrap().position).unwrap();
    }
    assert_eq!(live.listed(), rebuilt.listed());
    for q in ["blue", "mug desk", "stonewar", "lamp"] {
        for sort in [
            CatalogSort::Relevance,
            CatalogSort::PriceAsc,
            CatalogSort::Name,
            CatalogSort::Newest,
        ] {
            let query =
                SearchQuery::new(Some(q), None, None, None, None, Some(sort), 1, 50).unwrap();
            let (a, b) = (
                live.search(&query).unwrap(),
                rebuilt.search(&query).unwrap(),
            );
            assert_eq!(a.total, b.total, "{q} {sort:?}");
            assert_eq!(a.facets, b.facets, "{q} {sort:?}");
            // Ties are broken by id, so orders are equal; BM25 counts documents deleted but not yet merged
            // away, so relevance scores may differ between the two, the matches may not.
            if sort == CatalogSort::Relevance {
                let (mut x, mut y) = (names(&a), names(&b));
                x.sort();
                y.sort();
                assert_eq!(x, y, "{q} {sort:?}");
            } else {
                assert_eq!(names(&a), names(&b), "{q} {sort:?}");
            }
        }
    }
}

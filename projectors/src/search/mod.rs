//! The catalog held in process (docs/adr/0013): every process that serves the query API holds the whole
//! catalog in memory — a tantivy index of its words and a table of its documents and filter columns — built
//! from the event feed at start and kept current from it, so that listing, search, facets and
//! `GET /categories` never wait on a round trip.
//!
//! # Layout
//!
//! - this module: [`CatalogIndex`] — the published generation (the index's searcher and the table, handed
//!   out together), the position it serves — and the runner that feeds it ([`CatalogIndex::run`]).
//! - [`query`]: what a search asks ([`SearchQuery`]), validated.
//! - [`words`]: what its words match, read from tantivy's posting lists: every word must match exactly,
//!   within the typo limit, or (the last word) as a prefix; ranked by tiers, then BM25.
//! - [`table`]: the documents and what listings filter, count and sort by, in columns by row; one
//!   implementation of the filters; the orders kept sorted as products change.
//! - [`facets`]: the counts for the current query, each facet without its own filter.
//!
//! The search index holds only what words are matched against (name; description, SKU and category as
//! words; the SKU whole) and each document's row. A search asks it for the rows matching the words, with their
//! scores; a listing without words does not ask it at all.
//!
//! The index has no durable checkpoint of its own: it is rebuilt from the feed whenever the process starts,
//! and `/health/ready` answers 200 only once it has caught up. Each instance's index is therefore its own
//! projector, and adding query instances adds catalog capacity.

pub mod facets;
pub mod query;
mod table;
mod words;

use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use eventstore::wake::Wakeups;
use eventstore::{Feed, Position, StoredEvent};
use serde::{Deserialize, Serialize};
use tantivy::index::SegmentId;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
    TokenStream,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, Term, doc};
use tokio::sync::{Notify, oneshot, watch};

pub use facets::{Facets, PriceBucket};
pub use query::{QueryError, SearchQuery};
pub use table::Shown;

use crate::store::query::CatalogSort;
use crate::views::catalog::CatalogProduct;

/// Splits on anything but letters and digits, lower-cases and folds accents: "Crème-Brûlée" → creme, brulee.
const WORDS: &str = "catalog_words";
/// The whole value, lower-cased and folded: for the exact-SKU tier and the name sort.
const WHOLE: &str = "catalog_whole";
/// Events read per round trip while building and catching up.
const BATCH: i64 = 5_000;
/// The least time between two commits of the live index: stock changes with every checkout.
const COMMIT_EVERY: Duration = Duration::from_millis(100);
/// Whole answers kept (each up to a page of products and its facets, a few KiB): those of older generations
/// are never asked for again and age out.
const ANSWERS: u64 = 1_000;

/// The index's fields.
#[derive(Clone, Copy)]
pub(crate) struct Fields {
    /// The document's row in the [`table`].
    pub row: Field,
    pub name: Field,
    /// Description, SKU and category, as words: matched like the name, ranked below it.
    pub rest: Field,
    pub sku: Field,
}

/// Why the index could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Index(#[from] tantivy::TantivyError),
    #[error("the event feed could not be read: {0}")]
    Feed(#[from] eventstore::db::DbError),
    #[error("an event does not fit the catalog: {0}")]
    Event(#[from] crate::ViewError),
}

/// A page of the catalog with the facets of its query.
#[derive(Debug, Clone)]
pub struct Found {
    pub items: Vec<Arc<Shown>>,
    pub page: u64,
    pub limit: u64,
    /// Products matching the query and every filter, on all pages.
    pub total: u64,
    pub facets: Facets,
    /// The answer as the API sends it, rendered by the first request that sends it: a cached answer is
    /// then sent again without being serialized again.
    rendered: OnceLock<Vec<u8>>,
}

impl Found {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.limit.max(1))
    }

    /// This answer rendered by `render`, the first time it is asked for; the same bytes after that.
    pub fn rendered(&self, render: impl FnOnce(&Self) -> Vec<u8>) -> &[u8] {
        self.rendered.get_or_init(|| render(self))
    }
}

/// The catalog index of this process; cheap to clone.
#[derive(Clone)]
pub struct CatalogIndex {
    inner: Arc<Inner>,
}

struct Inner {
    fields: Fields,
    reader: IndexReader,
    /// Only the runner writes; the locks are never held across an await.
    writer: Mutex<Writer>,
    working: Mutex<table::Working>,
    /// What searches read: the index's searcher and the table, published together.
    published: RwLock<Arc<Published>>,
    /// The feed position whose effects the published generation shows; `None` until the first build is done.
    served: watch::Sender<Option<Position>>,
    /// Whole answers per generation, so that repeated queries cost a lookup; `None` when turned off.
    answers: Option<moka::sync::Cache<(u64, SearchQuery), Arc<Found>>>,
    /// Snapshots asked for (by `shop replay --projector catalog --verify`), answered by the runner between
    /// two catch-ups, when the documents, the index and the served position agree.
    snapshots: Mutex<Vec<oneshot::Sender<Snapshot>>>,
    snapshot_wanted: Notify,
    /// Each segment's table rows by document, kept while the segment lives: segments never change, so a
    /// generation reads only its new segments' `row` column.
    segment_rows: Mutex<HashMap<SegmentId, words::SegmentRows>>,
}

struct Writer {
    index: IndexWriter,
    /// Rows that have a document in the index.
    indexed: Vec<bool>,
    /// Documents added or deleted since the last commit.
    staged: bool,
    /// Commits so far.
    commits: u64,
}

/// One generation of the catalog: the search index's searcher and the table of the same publication.
struct Published {
    generation: u64,
    searcher: Searcher,
    /// The table row of every document, per segment of `searcher` (in its order).
    rows: Vec<words::SegmentRows>,
    table: table::Table,
    /// The facets and total of the whole listed catalog (no words, no filter): counted once, when first
    /// asked.
    everything: OnceLock<(Facets, u64)>,
    /// The listed prices by category and stock, for filters without words: sorted once, when first asked.
    price_lists: OnceLock<table::PriceLists>,
    /// The listed rows as bits by category, price bucket and stock, for searches with words and no filter:
    /// set once, when first asked.
    row_sets: OnceLock<facets::RowSets>,
}

impl Published {
    fn price_lists(&self) -> &table::PriceLists {
        self.price_lists
            .get_or_init(|| table::PriceLists::of(&self.table))
    }

    fn row_sets(&self) -> &facets::RowSets {
        self.row_sets
            .get_or_init(|| facets::RowSets::of(&self.table))
    }

    fn everything(&self) -> &(Facets, u64) {
        self.everything.get_or_init(|| {
            let open = self.table.filter(None, None, None, None);
            facets::count(&self.table, &open, self.table.listed_rows())
        })
    }
}

/// Everything an instance serves at one position: its listed documents (by id) and the facets of the whole
/// catalog. A rebuild from the feed up to the same position must give the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    #[serde(with = "position_text")]
    pub position: Position,
    pub products: Vec<CatalogProduct>,
    pub facets: Facets,
}

/// A position as the API writes it (`"{transaction}:{position}"`).
mod position_text {
    use eventstore::Position;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(position: &Position, to: S) -> Result<S::Ok, S::Error> {
        to.collect_str(position)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<Position, D::Error> {
        String::deserialize(from)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

fn schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let words = |positions| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(positions),
        )
    };
    let fields = Fields {
        row: builder.add_u64_field("row", INDEXED | FAST),
        name: builder.add_text_field("name", words(IndexRecordOption::WithFreqs)),
        rest: builder.add_text_field("rest", words(IndexRecordOption::WithFreqs)),
        sku: builder.add_text_field(
            "sku",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(WHOLE)
                    .set_index_option(IndexRecordOption::Basic),
            ),
        ),
    };
    (builder.build(), fields)
}

fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

fn whole_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(RawTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The words of `text` as the index holds them.
pub(crate) fn words_of(text: &str) -> Vec<String> {
    let mut analyzer = words_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut words = Vec::new();
    while let Some(token) = stream.next() {
        words.push(token.text.clone());
    }
    words
}

/// `text` as the index holds whole values.
pub(crate) fn whole_of(text: &str) -> String {
    let mut analyzer = whole_analyzer();
    let mut stream = analyzer.token_stream(text);
    stream.next().map(|t| t.text.clone()).unwrap_or_default()
}

impl CatalogIndex {
    /// An empty index, in memory, that keeps whole answers per index generation.
    pub fn new() -> Result<Self, SearchError> {
        Self::with_answer_cache(true)
    }

    /// An empty index, in memory; with `cache`, whole answers are kept until the index next changes.
    pub fn with_answer_cache(cache: bool) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(WORDS, words_analyzer());
        index.tokenizers().register(WHOLE, whole_analyzer());
        let writer = index.writer_with_options(
            tantivy::indexer::IndexWriterOptions::builder()
                .memory_budget_per_thread(50_000_000)
                .num_worker_threads(1)
                .num_merge_threads(1)
                .build(),
        )?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let published = Published {
            generation: 0,
            searcher: reader.searcher(),
            rows: Vec::new(),
            table: table::Table::default(),
            everything: OnceLock::new(),
            price_lists: OnceLock::new(),
            row_sets: OnceLock::new(),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                fields,
                reader,
                writer: Mutex::new(Writer {
                    index: writer,
                    indexed: Vec::new(),
                    staged: false,
                    commits: 0,
                }),
                working: Mutex::new(table::Working::default()),
                published: RwLock::new(Arc::new(published)),
                served: watch::channel(None).0,
                answers: cache.then(|| {
                    moka::sync::Cache::builder()
                        .max_capacity(ANSWERS)
                        .time_to_idle(Duration::from_secs(60))
                        .build()
                }),
                snapshots: Mutex::new(Vec::new()),
                snapshot_wanted: Notify::new(),
                segment_rows: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The position whose effects searches show now; `None` while the first build runs.
    pub fn served(&self) -> Option<Position> {
        *self.inner.served.borrow()
    }

    /// How many times the search index (the words) was committed: publications that changed only the table
    /// (stock, images) do not count.
    pub fn search_index_commits(&self) -> u64 {
        self.inner
            .writer
            .lock()
            .map(|writer| writer.commits)
            .unwrap_or_default()
    }

    /// Whether the first build from the feed is done: until then the process is not ready.
    pub fn is_built(&self) -> bool {
        self.served().is_some()
    }

    /// Waits until searches show `target` (or later), or `deadline` passes; `false` if it passed.
    pub async fn wait_for(&self, target: Position, deadline: Instant) -> bool {
        let mut served = self.inner.served.subscribe();
        let reached = served.wait_for(|p| p.is_some_and(|p| p >= target));
        matches!(
            tokio::time::timeout_at(deadline.into(), reached).await,
            Ok(Ok(_))
        )
    }

    /// Applies events in feed order to the documents; returns how many were product events. Nothing shows
    /// until [`CatalogIndex::publish`].
    pub fn apply(&self, events: &[StoredEvent]) -> Result<usize, SearchError> {
        let mut working = self.inner.working.lock().unwrap_or_else(|e| e.into_inner());
        let mut applied = 0;
        for event in events {
            applied += usize::from(working.apply(event)?);
        }
        Ok(applied)
    }

    /// The table rows of `searcher`'s documents, segment by segment: those of a segment seen before from the
    /// cache; the cache then forgets the segments that merges have retired.
    fn rows_of(&self, searcher: &Searcher) -> Result<Vec<words::SegmentRows>, SearchError> {
        let mut cache = self
            .inner
            .segment_rows
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let mut rows = Vec::with_capacity(searcher.segment_readers().len());
        for segment in searcher.segment_readers() {
            let id = segment.segment_id();
            let of_segment = match cache.get(&id) {
                Some(known) => known.clone(),
                None => words::segment_rows(segment)?,
            };
            rows.push(of_segment);
        }
        cache.clear();
        for (segment, of_segment) in searcher.segment_readers().iter().zip(&rows) {
            cache.insert(segment.segment_id(), of_segment.clone());
        }
        Ok(rows)
    }

    /// Gives the search index the documents changed since it was last given them, commits, and makes
    /// searches show it all, up to `position`.
    pub fn publish(&self, position: Position) -> Result<(), SearchError> {
        let mut working = self.inner.working.lock().unwrap_or_else(|e| e.into_inner());
        let mut writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.stage_locked(&mut working, &mut writer)?;
        // A publication of stock changes only (most, under checkouts) leaves the search index as it was.
        let (searcher, rows) = if std::mem::take(&mut writer.staged) {
            writer.index.commit()?;
            writer.commits += 1;
            metrics::counter!("shop_catalog_index_commits_total").increment(1);
            self.inner.reader.reload()?;
            let searcher = self.inner.reader.searcher();
            let rows = self.rows_of(&searcher)?;
            (searcher, rows)
        } else {
            let published = self.published();
            (published.searcher.clone(), published.rows.clone())
        };
        let table = working.publish();
        {
            let mut published = self
                .inner
                .published
                .write()
                .unwrap_or_else(|e| e.into_inner());
            *published = Arc::new(Published {
                generation: published.generation + 1,
                searcher,
                rows,
                table,
                everything: OnceLock::new(),
                price_lists: OnceLock::new(),
                row_sets: OnceLock::new(),
            });
        }
        self.inner.served.send_replace(Some(position));
        Ok(())
    }

    /// Gives the search index the documents changed since it was last given them, without committing:
    /// tantivy's indexing thread works on them while the next batch is read. Nothing shows until
    /// [`CatalogIndex::publish`].
    fn stage(&self) -> Result<(), SearchError> {
        let mut working = self.inner.working.lock().unwrap_or_else(|e| e.into_inner());
        let mut writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        self.stage_locked(&mut working, &mut writer)
    }

    fn stage_locked(
        &self,
        working: &mut table::Working,
        writer: &mut Writer,
    ) -> Result<(), SearchError> {
        let f = self.inner.fields;
        for row in working.take_changed() {
            let at = row as usize;
            if writer.indexed.len() <= at {
                writer.indexed.resize(at + 1, false);
            }
            if writer.indexed[at] {
                writer
                    .index
                    .delete_term(Term::from_field_u64(f.row, u64::from(row)));
                writer.staged = true;
            }
            writer.indexed[at] = working.is_listed(row);
            if !writer.indexed[at] {
                continue;
            }
            let product = working.doc(row);
            let rest = format!(
                "{} {} {}",
                product.description, product.sku, product.category
            );
            writer.staged = true;
            writer.index.add_document(doc!(
                f.row => u64::from(row),
                f.name => product.name.as_str(),
                f.rest => rest.as_str(),
                f.sku => product.sku.as_str(),
            ))?;
        }
        Ok(())
    }

    /// Marks `position` as shown when nothing of the catalog changed since the last commit.
    fn advance(&self, position: Position) {
        self.inner.served.send_replace(Some(position));
    }

    fn published(&self) -> Arc<Published> {
        self.inner
            .published
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// A page of the catalog for `query`, with its facets.
    pub fn search(&self, query: &SearchQuery) -> Result<Arc<Found>, SearchError> {
        let published = self.published();
        let key = (published.generation, query.clone());
        if let Some(found) = self.inner.answers.as_ref().and_then(|a| a.get(&key)) {
            return Ok(found);
        }
        let table = &published.table;
        let filter = table.filter(
            query.category.as_deref(),
            query.min_price,
            query.max_price,
            query.in_stock,
        );
        let (facets, total, rows) = if query.has_words() {
            self.with_words(&published, query, &filter)?
        } else {
            without_words(&published, query, &filter)
        };
        let found = Arc::new(Found {
            items: rows
                .iter()
                .map(|row| table.docs[*row as usize].clone())
                .collect(),
            page: query.page,
            limit: query.limit,
            total,
            facets,
            rendered: OnceLock::new(),
        });
        if let Some(answers) = &self.inner.answers {
            answers.insert(key, found.clone());
        }
        Ok(found)
    }

    /// A search with words: tantivy finds the matching rows (scored for relevance); the facets are counted
    /// over them, and the page is the best `offset + limit` that pass every filter.
    fn with_words(
        &self,
        published: &Published,
        query: &SearchQuery,
        filter: &table::Filter,
    ) -> Result<(Facets, u64, Vec<u32>), SearchError> {
        let table = &published.table;
        let sort = query.effective_sort();
        let offset = ((query.page - 1) * query.limit) as usize;
        let end = offset + query.limit as usize;
        let scoring = sort == CatalogSort::Relevance;
        let hits = words::matching_rows(
            &published.searcher,
            &published.rows,
            &self.inner.fields,
            query,
            scoring,
        )?;
        let matched = hits.iter().map(|(row, _)| *row);
        let (facets, total) = if filter.is_open() {
            facets::count_open(table, published.row_sets(), matched)
        } else {
            facets::count(table, filter, matched)
        };
        // Each hit's place as one integer, so that choosing the page compares integers, not table cells: the
        // best score first (non-negative, so its bits order like it), or the asked order's rank.
        let order = table.order(sort);
        let keyed = hits.into_iter().map(|(row, score)| {
            let key = if scoring {
                u32::MAX - score.to_bits()
            } else {
                order.rank[row as usize]
            };
            (key, row)
        });
        let passing = keyed
            .filter(|(_, row)| filter.is_open() || filter.passes(&table.rows[*row as usize]).all());
        let rows = best_of(passing, end, &table.ids)
            .into_iter()
            .skip(offset)
            .collect();
        Ok((facets, total, rows))
    }

    /// Listed products per category, most first (then by name).
    pub fn categories(&self) -> Result<Vec<(String, u64)>, SearchError> {
        Ok(self.facets_of_everything().categories)
    }

    fn facets_of_everything(&self) -> Facets {
        self.published().everything().0.clone()
    }

    /// The listed documents, by id: what a rebuild must equal (for verification).
    pub fn listed(&self) -> Vec<CatalogProduct> {
        let published = self.published();
        let table = &published.table;
        let mut listed: Vec<CatalogProduct> = table
            .listed_rows()
            .map(|row| CatalogProduct::clone(&table.docs[row as usize]))
            .collect();
        listed.sort_by(|a, b| a.id.cmp(&b.id));
        listed
    }

    /// Builds the index from the feed's product events up to its head at the start, then keeps it current
    /// until `shutdown`: every event the feed delivers is applied, and changes are committed in batches at
    /// most every 100 ms.
    pub async fn run(self, feed: Feed, mut wakeups: Wakeups, mut shutdown: watch::Receiver<bool>) {
        let mut after = Position::START;
        while !*shutdown.borrow() {
            match self.build(&feed, after).await {
                Ok(position) => {
                    after = position;
                    break;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot build the catalog index; will retry");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(1)) => {},
                        _ = shutdown.changed() => {},
                    }
                }
            }
        }
        while !*shutdown.borrow() {
            let started = Instant::now();
            match self.catch_up(&feed, after).await {
                Ok(position) => {
                    after = position;
                    self.answer_snapshots();
                }
                Err(error) => {
                    tracing::error!(%error, "cannot update the catalog index; will retry")
                }
            }
            let pause = COMMIT_EVERY.saturating_sub(started.elapsed());
            tokio::select! {
                () = async {
                    tokio::time::sleep(pause).await;
                    wakeups.wait().await;
                } => {},
                () = self.inner.snapshot_wanted.notified() => {},
                _ = shutdown.changed() => {},
            }
        }
    }

    /// Everything this instance serves, at the position it serves: taken by the runner between two
    /// catch-ups. `None` until the index is built, or when no runner answers.
    pub async fn snapshot(&self) -> Option<Snapshot> {
        let (answer, answered) = oneshot::channel();
        self.inner
            .snapshots
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(answer);
        self.inner.snapshot_wanted.notify_one();
        answered.await.ok()
    }

    fn answer_snapshots(&self) {
        let waiting = std::mem::take(
            &mut *self
                .inner
                .snapshots
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        if waiting.is_empty() {
            return;
        }
        match self.current() {
            Ok(Some(snapshot)) => {
                for answer in waiting {
                    // An asker that gave up (its request timed out) has dropped its end: nothing to tell.
                    let _ = answer.send(snapshot.clone());
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "cannot take a snapshot of the catalog index"),
        }
    }

    /// The documents and facets of the published index at the position it serves. Consistent only when
    /// nothing is being applied: the runner's snapshots, or a shadow index that nobody else feeds.
    pub fn current(&self) -> Result<Option<Snapshot>, SearchError> {
        let Some(position) = self.served() else {
            return Ok(None);
        };
        Ok(Some(Snapshot {
            position,
            products: self.listed(),
            facets: self.facets_of_everything(),
        }))
    }

    /// Builds the index from the feed up to `target` exactly and publishes it there: a shadow of what an
    /// instance serves at `target`, to compare with its [`Snapshot`].
    pub async fn build_to(&self, feed: &Feed, target: Position) -> Result<(), SearchError> {
        let mut after = Position::START;
        while after < target {
            let mut batch = feed.read_after(after, BATCH).await?;
            batch.retain(|event| event.position <= target);
            let Some(last) = batch.last() else { break };
            after = last.position;
            self.apply(&batch)?;
        }
        self.publish(target)
    }

    /// The first build: the feed up to its head at the start, logged as it goes; committed once at the end.
    /// What is appended meanwhile is applied afterwards, like any later change: a build that chased a busy
    /// feed to an empty read might never end, and the process would never be ready.
    async fn build(
        &self,
        feed: &impl Source,
        mut after: Position,
    ) -> Result<Position, SearchError> {
        let started = Instant::now();
        let mut logged = Instant::now();
        let mut events = 0u64;
        let head = feed.head().await?.unwrap_or(after);
        // Only product events change the catalog: the others of the history are left in the database. Each
        // batch is applied and handed to the search index on a blocking thread while the next is read, and
        // tantivy indexes on its own thread meanwhile.
        let mut batch = if after < head {
            feed.read_products_after(after, BATCH).await?
        } else {
            Vec::new()
        };
        loop {
            let Some(last) = batch.last() else {
                after = after.max(head);
                break;
            };
            after = last.position;
            events += batch.len() as u64;
            let index = self.clone();
            let applying = tokio::task::spawn_blocking(move || {
                index.apply(&batch)?;
                index.stage()
            });
            let next = if after < head {
                feed.read_products_after(after, BATCH).await
            } else {
                Ok(Vec::new())
            };
            applying
                .await
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic()))?;
            batch = next?;
            if logged.elapsed() >= Duration::from_secs(2) {
                tracing::info!(
                    product_events = events,
                    products = self.product_count(),
                    "building the catalog index"
                );
                logged = Instant::now();
            }
        }
        self.publish(after)?;
        let seconds = started.elapsed().as_secs_f64();
        tracing::info!(
            product_events = events,
            products = self.product_count(),
            through = %after,
            seconds,
            "catalog index built"
        );
        metrics::gauge!("shop_catalog_index_products").set(self.listed_count() as f64);
        Ok(after)
    }

    /// Applies what the feed holds after `after` and commits it, if anything changed.
    async fn catch_up(
        &self,
        feed: &impl Source,
        mut after: Position,
    ) -> Result<Position, SearchError> {
        let mut changed = 0;
        loop {
            let batch = feed.read_after(after, BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = last.position;
            changed += self.apply(&batch)?;
            metrics::counter!("shop_subscriber_events_total", "subscriber" => "catalog_index")
                .increment(batch.len() as u64);
        }
        if changed > 0 {
            self.publish(after)?;
            metrics::gauge!("shop_catalog_index_products").set(self.listed_count() as f64);
        } else if self.served() != Some(after) {
            self.advance(after);
        }
        if let Some(position) = self.served() {
            metrics::gauge!("shop_subscriber_checkpoint_position", "subscriber" => "catalog_index")
                .set(position.position as f64);
        }
        Ok(after)
    }

    fn product_count(&self) -> usize {
        self.inner
            .working
            .lock()
            .map(|w| w.product_count())
            .unwrap_or_default()
    }

    fn listed_count(&self) -> usize {
        self.published().table.listed_count()
    }
}

/// The rows of the best `end` of `keyed` (a place and a row each), best first: by place, then by product id.
/// A bounded heap keeps the best so far with the worst on top, so most candidates cost one comparison of
/// integers; the id is looked up only for those that reach the page or tie its worst.
fn best_of(keyed: impl Iterator<Item = (u32, u32)>, end: usize, ids: &[u128]) -> Vec<u32> {
    let mut kept: BinaryHeap<(u32, u128, u32)> = BinaryHeap::with_capacity(end + 1);
    for (key, row) in keyed {
        if kept.len() < end {
            kept.push((key, ids[row as usize], row));
            continue;
        }
        let Some(mut worst) = kept.peek_mut() else {
            break;
        };
        if key > worst.0 {
            continue;
        }
        let candidate = (key, ids[row as usize], row);
        if candidate < *worst {
            *worst = candidate;
        }
    }
    kept.into_sorted_vec()
        .into_iter()
        .map(|(_, _, row)| row)
        .collect()
}

/// What the index is built from: the event feed (a unit test gives one that grows with every read).
trait Source {
    /// The last event that can be read now.
    async fn head(&self) -> Result<Option<Position>, eventstore::db::DbError>;
    /// Up to `limit` events after `after`, in feed order.
    async fn read_after(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, eventstore::db::DbError>;
    /// Up to `limit` product events after `after`, in feed order.
    async fn read_products_after(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, eventstore::db::DbError>;
}

impl Source for Feed {
    async fn head(&self) -> Result<Option<Position>, eventstore::db::DbError> {
        Feed::head(self).await
    }

    async fn read_after(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, eventstore::db::DbError> {
        Feed::read_after(self, after, limit).await
    }

    async fn read_products_after(
        &self,
        after: Position,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, eventstore::db::DbError> {
        let products = eventstore::EventFilter {
            aggregate_type: Some("product".to_owned()),
            ..Default::default()
        };
        self.read_filtered(after, limit, &products).await
    }
}

/// A listing without words: the facets of the generation (the unfiltered catalog's once, a filter's from the
/// sorted price lists), and the page walked off the asked order.
fn without_words(
    published: &Published,
    query: &SearchQuery,
    filter: &table::Filter,
) -> (Facets, u64, Vec<u32>) {
    let table = &published.table;
    let (facets, total) = if filter.is_open() {
        published.everything().clone()
    } else {
        facets::count_by_prices(table, published.price_lists(), filter)
    };
    let rows = table
        .order(query.effective_sort())
        .rows
        .iter()
        .copied()
        .filter(|row| filter.passes(&table.rows[*row as usize]).all())
        .skip(((query.page - 1) * query.limit) as usize)
        .take(query.limit as usize)
        .collect();
    (facets, total, rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use chrono::Utc;
    use cqrs_es::DomainEvent;
    use domain::product::ProductEvent;
    use domain::{Currency, Money, ProductId, Sku};
    use uuid::Uuid;

    use super::*;

    /// A feed that someone appends to between any two reads, as a busy shop's does.
    #[derive(Default)]
    struct BusyFeed {
        events: Mutex<Vec<StoredEvent>>,
    }

    impl BusyFeed {
        fn append(&self) {
            let mut events = self.events.lock().unwrap();
            let n = events.len() as i64 + 1;
            let event = if n == 1 {
                ProductEvent::ProductCreated {
                    product_id: ProductId::new(Uuid::nil()),
                    sku: Sku::parse("BUSY-1").unwrap(),
                    name: "Busy Mug".to_owned(),
                    description: "Sold all day".to_owned(),
                    category: "Kitchen".to_owned(),
                    price: Money::new(900, Currency::EUR).unwrap(),
                    stock: 0,
                    created_at: Utc::now(),
                }
            } else {
                ProductEvent::StockAdjusted {
                    delta: 1,
                    on_hand: n as u32 - 1,
                    available: n as u32 - 1,
                    adjusted_at: Utc::now(),
                }
            };
            events.push(StoredEvent {
                position: Position::new(n as u64, n),
                event_id: Uuid::now_v7(),
                aggregate_type: "product".to_owned(),
                aggregate_id: Uuid::nil().to_string(),
                sequence: n,
                event_type: event.event_type(),
                event_version: "1.0".to_owned(),
                payload: serde_json::to_value(&event).unwrap(),
                metadata: serde_json::json!({}),
                recorded_at: Utc::now(),
                hash: String::new(),
            });
        }
    }

    impl Source for BusyFeed {
        async fn head(&self) -> Result<Option<Position>, eventstore::db::DbError> {
            Ok(self.events.lock().unwrap().last().map(|e| e.position))
        }

        async fn read_after(
            &self,
            after: Position,
            limit: i64,
        ) -> Result<Vec<StoredEvent>, eventstore::db::DbError> {
            let read: Vec<StoredEvent> = self
                .events
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.position > after)
                .take(limit as usize)
                .cloned()
                .collect();
            self.append();
            Ok(read)
        }

        async fn read_products_after(
            &self,
            after: Position,
            limit: i64,
        ) -> Result<Vec<StoredEvent>, eventstore::db::DbError> {
            self.read_after(after, limit).await
        }
    }

    #[test]
    fn the_best_are_chosen_by_place_then_by_product_id_however_many_tie() {
        let ids: Vec<u128> = vec![50, 40, 30, 20, 10, 5];
        // Rows 1 to 4 tie on place 7; row 5 is best; row 0 is worst.
        let keyed = [(9, 0), (7, 1), (7, 2), (7, 3), (7, 4), (3, 5)];

        assert_eq!(best_of(keyed.into_iter(), 3, &ids), [5, 4, 3]);
        assert_eq!(best_of(keyed.into_iter(), 10, &ids), [5, 4, 3, 2, 1, 0]);
        assert!(best_of(keyed.into_iter(), 0, &ids).is_empty());
    }

    #[tokio::test]
    async fn the_first_build_ends_at_the_head_it_started_from_however_busy_the_feed() {
        let feed = BusyFeed::default();
        for _ in 0..(2 * BATCH + 10) {
            feed.append();
        }
        let head = feed.head().await.unwrap().unwrap();
        let index = CatalogIndex::new().unwrap();

        // A deadline, not a timing: a build that chased the head would never end.
        let built =
            tokio::time::timeout(Duration::from_secs(60), index.build(&feed, Position::START))
                .await
                .expect("the build ends")
                .unwrap();

        assert!(built >= head, "{built:?} is short of {head:?}");
        assert_eq!(index.served(), Some(built));
    }
}

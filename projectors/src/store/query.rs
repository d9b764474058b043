//! The reads the query API makes. Each finds the active generation of its view through a pointer cached
//! for a second, so a replay's switch reaches every reader within that time. The Redis views are read
//! through the process's near cache (`platform::near_cache`), which the projectors' writes keep exact.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use eventstore::Position;
use futures::TryStreamExt;
use mongodb::bson::{self, Document, doc};
use platform::near_cache::{self, Lookup, NearCache, Stamp};

use super::{ReadStores, StoreError, collection_name};
use crate::view::{Versioned, View};
use crate::views::carts::CartView;
use crate::views::notifications::NotificationView;
use crate::views::orders::OrderView;
use crate::views::product_cache::ProductDetails;
use crate::views::promotions::PromotionView;
use crate::views::stock::Stock;
use crate::views::users::UserProfile;

/// How often a discount code was used, by its orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodeUse {
    /// Orders placed with it and not yet confirmed or cancelled.
    pub pending: u64,
    /// Orders confirmed with it (shipped and delivered ones too).
    pub redeemed: u64,
}

const POINTER_TTL: Duration = Duration::from_secs(1);
/// How long a view's checkpoint, once read, answers every reader waiting on that view.
const CHECKPOINT_TTL: Duration = Duration::from_millis(10);

/// The last checkpoint read of one view and when, behind an async lock: one read at a time per view.
type CheckpointSlot = Arc<tokio::sync::Mutex<Option<(Option<Position>, Instant)>>>;

#[derive(Clone)]
pub struct ReadModels {
    stores: ReadStores,
    /// Hot Redis documents in process memory.
    cache: NearCache,
    generations: Arc<Mutex<HashMap<&'static str, (u64, Instant)>>>,
    checkpoints: Arc<Mutex<HashMap<&'static str, CheckpointSlot>>>,
}

impl std::fmt::Debug for ReadModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadModels").finish_non_exhaustive()
    }
}

/// A product as `GET /products/{id}` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRead {
    pub details: ProductDetails,
    pub available: i64,
    /// The product aggregate's version, for `ETag`.
    pub version: i64,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub page: u64,
    pub limit: u64,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn pages(&self) -> u64 {
        self.total.div_ceil(self.limit.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CatalogSort {
    #[default]
    Relevance,
    PriceAsc,
    PriceDesc,
    Name,
    Newest,
}

#[derive(Debug, Clone, Default)]
pub struct OrderQuery {
    pub user_id: Option<String>,
    pub status: Option<String>,
    pub page: u64,
    pub limit: u64,
}

/// A feed position as a near-cache stamp: the same order.
fn stamp(position: Position) -> Stamp {
    Stamp::new(
        position.transaction_id,
        u64::try_from(position.position).unwrap_or(0),
    )
}

impl ReadModels {
    pub fn new(stores: ReadStores, cache: NearCache) -> Self {
        Self {
            stores,
            cache,
            generations: Arc::default(),
            checkpoints: Arc::default(),
        }
    }

    /// The near cache the Redis views are read through; its announcements wake reads that wait.
    pub fn cache(&self) -> &NearCache {
        &self.cache
    }

    pub fn stores(&self) -> &ReadStores {
        &self.stores
    }

    async fn generation<V: View>(&self) -> Result<u64, StoreError> {
        if let Ok(cache) = self.generations.lock()
            && let Some((generation, read_at)) = cache.get(V::NAME)
            && read_at.elapsed() < POINTER_TTL
        {
            return Ok(*generation);
        }
        let generation = self.stores.active_generation::<V>().await?;
        if let Ok(mut cache) = self.generations.lock() {
            cache.insert(V::NAME, (generation, Instant::now()));
        }
        Ok(generation)
    }

    /// Where the live generation of `V` has got to, at most `CHECKPOINT_TTL` old. However many requests
    /// wait for a view (`X-Min-Position`), its store is asked at most once per TTL: the others wait for that
    /// read and share it, instead of each polling the store.
    pub async fn checkpoint<V: View>(&self) -> Result<Option<Position>, StoreError> {
        let slot = self
            .checkpoints
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(V::NAME)
            .or_default()
            .clone();
        let mut last = slot.lock().await;
        if let Some((position, read_at)) = *last
            && read_at.elapsed() < CHECKPOINT_TTL
        {
            return Ok(position);
        }
        let generation = self.generation::<V>().await?;
        let position = self.stores.checkpoint::<V>(generation).await?;
        *last = Some((position, Instant::now()));
        Ok(position)
    }

    /// Whether `V` is known without a round trip to have reached `target`: the near cache heard its
    /// projector announce a checkpoint at least that recent.
    pub async fn heard_at_least<V: View>(&self, target: Position) -> bool {
        let Ok(generation) = self.generation::<V>().await else {
            return false;
        };
        self.cache
            .heard(&self.stores.scope::<V>(generation))
            .is_some_and(|heard| heard >= stamp(target))
    }

    /// Redis documents of `V` by key, through the near cache; `None` where there is none.
    async fn hot<V: View>(
        &self,
        keys: &[String],
        at_least: Option<Position>,
    ) -> Result<Vec<Option<Arc<Versioned<V>>>>, StoreError> {
        let generation = self.generation::<V>().await?;
        let scope = self.stores.scope::<V>(generation);
        let redis_keys: Vec<String> = keys
            .iter()
            .map(|key| self.stores.redis_key(V::NAME, generation, key))
            .collect();
        let lookups: Vec<_> = redis_keys
            .iter()
            .map(|key| Lookup {
                scope: &scope,
                key,
                decode: near_cache::json::<Versioned<V>>,
            })
            .collect();
        let mut redis = self.stores.redis.clone();
        let values = self
            .cache
            .get(&mut redis, &lookups, at_least.map(stamp))
            .await?;
        Ok(values.into_iter().map(near_cache::downcast).collect())
    }

    async fn one<V: View>(&self, key: &str) -> Result<Option<Versioned<V>>, StoreError> {
        let generation = self.generation::<V>().await?;
        Ok(self
            .stores
            .load::<V>(generation, &[key.to_owned()])
            .await?
            .remove(key))
    }

    pub async fn user(&self, id: &str) -> Result<Option<Versioned<UserProfile>>, StoreError> {
        self.one::<UserProfile>(id).await
    }

    pub async fn order(&self, id: &str) -> Result<Option<Versioned<OrderView>>, StoreError> {
        self.one::<OrderView>(id).await
    }

    /// A product's details and available stock, from memory or in one round trip to Redis.
    pub async fn product(
        &self,
        id: &str,
        at_least: Option<Position>,
    ) -> Result<Option<ProductRead>, StoreError> {
        let details_generation = self.generation::<ProductDetails>().await?;
        let stock_generation = self.generation::<Stock>().await?;
        let details_scope = self.stores.scope::<ProductDetails>(details_generation);
        let stock_scope = self.stores.scope::<Stock>(stock_generation);
        let details_key = self
            .stores
            .redis_key(ProductDetails::NAME, details_generation, id);
        let stock_key = self.stores.redis_key(Stock::NAME, stock_generation, id);
        let mut redis = self.stores.redis.clone();
        let at_least = at_least.map(stamp);
        // Both views in one call, so that a miss of both costs one round trip.
        let values = self
            .cache
            .get(
                &mut redis,
                &[
                    Lookup {
                        scope: &details_scope,
                        key: &details_key,
                        decode: near_cache::json::<Versioned<ProductDetails>>,
                    },
                    Lookup {
                        scope: &stock_scope,
                        key: &stock_key,
                        decode: near_cache::json::<Versioned<Stock>>,
                    },
                ],
                at_least,
            )
            .await?;
        let [details, stock] = <[_; 2]>::try_from(values)
            .map_err(|_| StoreError::Corrupt("MGET answered the wrong count".into()))?;
        let Some(details) = near_cache::downcast::<Versioned<ProductDetails>>(details) else {
            return Ok(None);
        };
        let stock = near_cache::downcast::<Versioned<Stock>>(stock);
        let stock = stock.as_deref();
        Ok(Some(ProductRead {
            // Each view applies only some of the product's events; together they have seen the latest.
            version: details
                .version("product")
                .max(stock.map_or(0, |s| s.version("product"))),
            available: stock.map_or(0, |s| s.view.available),
            details: details.view.clone(),
        }))
    }

    /// A user's cart lines with the current details of their products.
    pub async fn cart(
        &self,
        user_id: &str,
        at_least: Option<Position>,
    ) -> Result<(CartView, HashMap<String, ProductDetails>), StoreError> {
        let cart = self
            .hot::<CartView>(&[user_id.to_owned()], at_least)
            .await?
            .pop()
            .flatten()
            .map(|d| d.view.clone())
            .unwrap_or_default();
        let ids: Vec<String> = cart.lines.iter().map(|l| l.product_id.clone()).collect();
        let details = self.hot::<ProductDetails>(&ids, at_least).await?;
        let products = ids
            .into_iter()
            .zip(details)
            .filter_map(|(id, doc)| Some((id, doc?.view.clone())))
            .collect();
        Ok((cart, products))
    }

    pub async fn promotion(
        &self,
        id: &str,
    ) -> Result<Option<Versioned<PromotionView>>, StoreError> {
        self.one::<PromotionView>(id).await
    }

    /// Discount codes, newest first; those of one status (`active`, `paused`, `ended`) if given.
    pub async fn promotions(
        &self,
        status: Option<&str>,
        page: u64,
        limit: u64,
    ) -> Result<Page<PromotionView>, StoreError> {
        let mut filter = doc! {"id": {"$ne": ""}};
        if let Some(status) = status {
            filter.insert("status", status);
        }
        self.page::<PromotionView>(filter, doc! {"created_key": -1, "_id": 1}, page, limit)
            .await
    }

    /// Orders placed with each of `codes`: how many are pending, and how many confirmed (or shipped, or
    /// delivered); a code no order has is left out. How codes without a limit, which the promotion does not
    /// count, are counted: one aggregation for a page of codes.
    pub async fn orders_with_codes(
        &self,
        codes: &[String],
    ) -> Result<HashMap<String, CodeUse>, StoreError> {
        if codes.is_empty() {
            return Ok(HashMap::new());
        }
        let generation = self.generation::<OrderView>().await?;
        let collection = self
            .stores
            .mongo
            .collection::<Document>(&collection_name(OrderView::NAME, generation));
        let pipeline = [
            doc! {"$match": {"discount.code": {"$in": codes}}},
            doc! {"$group": {"_id": {"code": "$discount.code", "status": "$status"}, "n": {"$sum": 1}}},
        ];
        let groups: Vec<Document> = collection.aggregate(pipeline).await?.try_collect().await?;
        let mut uses: HashMap<String, CodeUse> = HashMap::new();
        for group in groups {
            // Every order document has a code here (the match) and a status: a group without them, or
            // without a count, is a read model to rebuild, not orders to leave out of the counts.
            let corrupt = || StoreError::Corrupt(format!("orders by discount code: group {group}"));
            let key = group.get_document("_id").map_err(|_| corrupt())?;
            let (Ok(code), Ok(status)) = (key.get_str("code"), key.get_str("status")) else {
                return Err(corrupt());
            };
            let n = group
                .get_i64("n")
                .or_else(|_| group.get_i32("n").map(i64::from))
                .map_err(|_| corrupt())?
                .max(0) as u64;
            let entry = uses.entry(code.to_owned()).or_default();
            match status {
                "pending" => entry.pending += n,
                "confirmed" | "shipped" | "delivered" => entry.redeemed += n,
                _ => {}
            }
        }
        Ok(uses)
    }

    pub async fn orders(&self, query: &OrderQuery) -> Result<Page<OrderView>, StoreError> {
        let mut filter = doc! {"id": {"$ne": ""}};
        if let Some(user_id) = &query.user_id {
            filter.insert("user_id", user_id.as_str());
        }
        if let Some(status) = &query.status {
            filter.insert("status", status.as_str());
        }
        self.page::<OrderView>(
            filter,
            doc! {"created_key": -1, "_id": 1},
            query.page,
            query.limit,
        )
        .await
    }

    /// Notifications, newest first; a user's own, or everyone's when `user_id` is `None`.
    pub async fn notifications(
        &self,
        user_id: Option<&str>,
        page: u64,
        limit: u64,
    ) -> Result<Page<NotificationView>, StoreError> {
        let mut filter = doc! {"id": {"$ne": ""}};
        if let Some(user_id) = user_id {
            filter.insert("user_id", user_id);
        }
        self.page::<NotificationView>(filter, doc! {"sent_key": -1, "_id": 1}, page, limit)
            .await
    }

    async fn page<V: View>(
        &self,
        filter: Document,
        sort: Document,
        page: u64,
        limit: u64,
    ) -> Result<Page<V>, StoreError> {
        let generation = self.generation::<V>().await?;
        let collection = self
            .stores
            .mongo
            .collection::<Document>(&collection_name(V::NAME, generation));
        let total = collection.count_documents(filter.clone()).await?;
        let documents: Vec<Document> = collection
            .find(filter)
            .sort(sort)
            .skip(page.saturating_sub(1) * limit)
            .limit(limit as i64)
            .await?
            .try_collect()
            .await?;
        let items = documents
            .into_iter()
            .map(|d| bson::from_document::<Versioned<V>>(d).map(|v| v.view))
            .collect::<Result<Vec<V>, _>>()
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(Page {
            items,
            page,
            limit,
            total,
        })
    }
}

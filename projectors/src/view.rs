//! What a view is: a document per key, changed by events through a pure function.

use std::collections::BTreeMap;

use eventstore::StoredEvent;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    #[error("event {event_type} at {position} cannot be read: {source}")]
    Undecodable {
        event_type: String,
        position: String,
        #[source]
        source: serde_json::Error,
    },
}

/// A read model. `update` must be pure: the same events give the same document, which is what makes
/// replay and restarts safe.
pub trait View:
    Serialize + DeserializeOwned + Default + Clone + PartialEq + Send + Sync + 'static
{
    /// Names the projector, its documents' collection or key space, and its checkpoint.
    const NAME: &'static str;
    /// Where its documents live.
    const STORE: StoreKind;
    /// The MongoDB indexes its reads need, each a list of `(field, 1 or -1)`; created on every generation
    /// before it serves (Redis views have none).
    const INDEXES: &'static [Index] = &[];
    /// The document an event changes, if any.
    fn key(event: &StoredEvent) -> Option<String>;
    /// Applies one event to the document.
    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError>;
}

/// The fields of one index, in order, each ascending (`1`) or descending (`-1`).
pub type Index = &'static [(&'static str, i32)];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Mongo,
    Redis,
}

/// Reads an event's payload as the domain's event type.
pub fn decode<E: DeserializeOwned>(event: &StoredEvent) -> Result<E, ViewError> {
    E::deserialize(&event.payload).map_err(|source| ViewError::Undecodable {
        event_type: event.event_type.clone(),
        position: event.position.to_string(),
        source,
    })
}

/// A view document with the last sequence applied from each stream that feeds it, so that an event
/// delivered again (after a crash, or in a replay over live documents) changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Versioned<V> {
    #[serde(rename = "_applied", default)]
    pub applied: BTreeMap<String, i64>,
    #[serde(flatten)]
    pub view: V,
}

impl<V: View> Versioned<V> {
    /// Applies `event` unless it was applied before; returns whether the document changed.
    pub fn apply(&mut self, event: &StoredEvent) -> Result<bool, ViewError> {
        let last = self
            .applied
            .get(&event.aggregate_type)
            .copied()
            .unwrap_or(0);
        if event.sequence <= last {
            return Ok(false);
        }
        let result = self.view.update(event);
        // An event that cannot be read is recorded as applied too: retrying it would fail the same way.
        self.applied
            .insert(event.aggregate_type.clone(), event.sequence);
        result.map(|()| true)
    }

    /// The version of the document's main stream, for `ETag`.
    pub fn version(&self, aggregate_type: &str) -> i64 {
        self.applied.get(aggregate_type).copied().unwrap_or(0)
    }
}

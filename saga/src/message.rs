//! An event as it travels over RabbitMQ, and why a handler could not handle one ([`HandlerError`]).

use chrono::{DateTime, Utc};
use eventstore::StoredEvent;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventMessage {
    pub event_id: Uuid,
    pub position: String,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    /// The event's own fields (secrets redacted), as in the audit API.
    pub payload: Value,
    pub metadata: Value,
    pub recorded_at: DateTime<Utc>,
}

impl EventMessage {
    pub fn routing_key(&self) -> String {
        format!("{}.{}", self.aggregate_type, self.event_type)
    }

    pub fn correlation_id(&self) -> Option<&str> {
        self.metadata.get("correlation_id").and_then(Value::as_str)
    }

    /// The id of the HTTP request whose command wrote the event, when one did.
    pub fn request_id(&self) -> Option<&str> {
        self.metadata.get("request_id").and_then(Value::as_str)
    }

    /// The payload wrapped the way the domain's event enums deserialize (`{"OrderPlaced": {...}}`).
    pub fn domain_payload(&self) -> Value {
        serde_json::json!({ self.event_type.clone(): self.payload.clone() })
    }

    /// The domain event; call it only for an event type the handler knows, since one that does not decode
    /// then never will, and is a permanent failure.
    pub fn event<E: DeserializeOwned>(&self) -> Result<E, HandlerError> {
        serde_json::from_value(self.domain_payload()).map_err(|e| {
            HandlerError::Permanent(format!("{} cannot be read: {e}", self.routing_key()))
        })
    }
}

impl From<&StoredEvent> for EventMessage {
    fn from(event: &StoredEvent) -> Self {
        Self {
            event_id: event.event_id,
            position: event.position.to_string(),
            aggregate_type: event.aggregate_type.clone(),
            aggregate_id: event.aggregate_id.clone(),
            sequence: event.sequence,
            event_type: event.event_type.clone(),
            payload: event.public_payload(),
            metadata: event.metadata.clone(),
            recorded_at: event.recorded_at,
        }
    }
}

/// Why a message could not be handled, and so whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// A store, the broker or a provider did not answer, or another process got there first: retried with
    /// back-off, parked after the last attempt.
    #[error("{0}")]
    Transient(String),
    /// The message will fail the same way every time (a known event whose payload does not decode): parked
    /// at once for a person to look at.
    #[error("{0}")]
    Permanent(String),
}

impl HandlerError {
    pub fn transient(error: impl std::fmt::Display) -> Self {
        Self::Transient(error.to_string())
    }
}

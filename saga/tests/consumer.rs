//! The saga's consumer against the real RabbitMQ and PostgreSQL: a message that can never be handled is
//! parked on its first attempt, and an event type the saga does not know is acknowledged and forgotten,
//! without being looked up or recorded as handled; only a message delivered again is looked up in the ledger
//! of handled messages.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use eventstore::CommandBus;
use eventstore::testing::{eventually, fresh_database};
use lapin::BasicProperties;
use lapin::options::{BasicGetOptions, BasicPublishOptions};
use lapin::types::{AMQPValue, FieldTable};
use saga::checkout::CheckoutSaga;
use saga::consumer::{Arrival, Handler, HandlerError};
use saga::gateway::SimulatedGateway;
use saga::message::EventMessage;
use saga::topology::{SAGA, SAGA_BINDINGS};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

mod support;

fn order_event(event_type: &str, payload: serde_json::Value) -> EventMessage {
    EventMessage {
        event_id: Uuid::now_v7(),
        position: "1".to_owned(),
        aggregate_type: "order".to_owned(),
        aggregate_id: Uuid::now_v7().to_string(),
        sequence: 1,
        event_type: event_type.to_owned(),
        payload,
        metadata: json!({}),
        recorded_at: Utc::now(),
    }
}

/// The saga, noting the events it did not want.
struct Noting {
    saga: CheckoutSaga<SimulatedGateway>,
    unwanted: Mutex<Vec<Uuid>>,
}

impl Handler for Noting {
    fn wants(&self, message: &EventMessage) -> bool {
        let wanted = self.saga.wants(message);
        if !wanted {
            self.unwanted.lock().unwrap().push(message.event_id);
        }
        wanted
    }

    async fn handle(&self, message: EventMessage, arrival: Arrival) -> Result<(), HandlerError> {
        self.saga.handle(message, arrival).await
    }
}

/// Notes every message it is offered and every one it handles.
#[derive(Default)]
struct Recording {
    offered: Mutex<Vec<Uuid>>,
    handled: Mutex<Vec<Uuid>>,
}

impl Handler for Recording {
    fn wants(&self, message: &EventMessage) -> bool {
        self.offered.lock().unwrap().push(message.event_id);
        true
    }

    async fn handle(&self, message: EventMessage, _: Arrival) -> Result<(), HandlerError> {
        self.handled.lock().unwrap().push(message.event_id);
        Ok(())
    }
}

async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    eventually(what, Duration::from_secs(10), async || {
        done().await.then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_known_event_that_does_not_decode_is_parked_at_once_and_an_unknown_one_is_acknowledged() {
    let (pool, _) = fresh_database().await;
    let (broker, _connection, channel) = support::broker_with_saga_queues().await;
    let saga = CheckoutSaga::new(
        Arc::new(CommandBus::new(pool.clone())),
        Arc::new(SimulatedGateway::new()),
        pool.clone(),
    );
    let handler = Arc::new(Noting {
        saga,
        unwanted: Mutex::default(),
    });
    let (stop, stopping) = watch::channel(false);
    let consumer = tokio::spawn(saga::consumer::run(
        broker.clone(),
        SAGA,
        &SAGA_BINDINGS,
        handler.clone(),
        pool.clone(),
        stopping,
    ));

    let unreadable = order_event("OrderPlaced", json!({"lines": "not a list"}));
    let unknown = order_event("OrderGiftWrapped", json!({"paper": "gold"}));
    for message in [&unreadable, &unknown] {
        channel
            .basic_publish(
                broker.exchange().into(),
                message.routing_key().into(),
                BasicPublishOptions::default(),
                &serde_json::to_vec(message).unwrap(),
                BasicProperties::default().with_message_id(message.event_id.to_string().into()),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }

    let unreadable_id = unreadable.event_id.to_string();
    until("the unreadable event to be parked", async || {
        saga::dlq::list(&broker)
            .await
            .unwrap()
            .iter()
            .any(|parked| parked.message_id == unreadable_id)
    })
    .await;
    let parked = saga::dlq::list(&broker).await.unwrap();
    assert_eq!(parked.len(), 1, "{parked:?}");
    assert_eq!(parked[0].attempts, 1, "{parked:?}");
    assert!(
        parked[0].last_error.contains("cannot be read"),
        "{parked:?}"
    );

    until("the unknown event to be turned down", async || {
        handler.unwanted.lock().unwrap().contains(&unknown.event_id)
    })
    .await;
    stop.send(true).unwrap();
    consumer.await.unwrap();
    // Acknowledged: a message still unacknowledged when the consumer left would be back in the queue.
    assert_eq!(
        support::waiting(&channel, &broker.queues(SAGA).main).await,
        0,
        "every message was acknowledged"
    );
    let recorded = sqlx::query_scalar::<_, bool>(
        "SELECT EXISTS (SELECT 1 FROM saga_handled WHERE event_id = $1)",
    )
    .bind(unknown.event_id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(!recorded, "an unwanted message is not recorded as handled");
    support::delete_queues(&channel, &broker, &[]).await;
}

/// A message handled before (in the ledger) is handled again when it comes as a first delivery, which is not
/// looked up (a copy the relay published twice: handlers are idempotent), and acknowledged unhandled when
/// RabbitMQ delivers it again or it comes back from the retry queue.
///
/// The test runs on one thread: a handler would be offered a message and handle it in the same poll if it were
/// not looked up, so a message seen offered and not handled was looked up.
#[tokio::test]
async fn only_a_message_delivered_again_is_looked_up_among_those_already_handled() {
    let (pool, _) = fresh_database().await;
    let (broker, connection, channel) = support::broker_with_saga_queues().await;
    let queues = broker.queues(SAGA);
    let first = order_event("OrderPlaced", json!({}));
    let retried = order_event("OrderPlaced", json!({}));
    let redelivered = order_event("OrderPlaced", json!({}));
    for message in [&first, &retried, &redelivered] {
        sqlx::query("INSERT INTO saga_handled (consumer, event_id) VALUES ($1, $2)")
            .bind(SAGA)
            .bind(message.event_id)
            .execute(&pool)
            .await
            .unwrap();
    }
    let publish = async |message: &EventMessage, attempt: Option<i64>| {
        let mut properties =
            BasicProperties::default().with_message_id(message.event_id.to_string().into());
        if let Some(attempt) = attempt {
            let mut headers = FieldTable::default();
            headers.insert("x-attempt".into(), AMQPValue::LongLongInt(attempt));
            properties = properties.with_headers(headers);
        }
        channel
            .basic_publish(
                broker.exchange().into(),
                message.routing_key().into(),
                BasicPublishOptions::default(),
                &serde_json::to_vec(message).unwrap(),
                properties,
            )
            .await
            .unwrap()
            .await
            .unwrap();
    };

    // Taken and left unacknowledged by a consumer that goes away: RabbitMQ delivers it again.
    publish(&redelivered, None).await;
    let taker = connection.create_channel().await.unwrap();
    let taken = eventually("the message to take", Duration::from_secs(10), async || {
        taker
            .basic_get(
                queues.main.as_str().into(),
                BasicGetOptions { no_ack: false },
            )
            .await
            .unwrap()
    })
    .await;
    assert!(!taken.delivery.redelivered);
    taker
        .close(200, "leaving unacknowledged".into())
        .await
        .unwrap();
    publish(&retried, Some(1)).await;
    publish(&first, None).await;

    let handler = Arc::new(Recording::default());
    let (stop, stopping) = watch::channel(false);
    let consumer = tokio::spawn(saga::consumer::run(
        broker.clone(),
        SAGA,
        &SAGA_BINDINGS,
        handler.clone(),
        pool.clone(),
        stopping,
    ));
    until("every message offered", async || {
        let offered = handler.offered.lock().unwrap().clone();
        [&first, &retried, &redelivered]
            .iter()
            .all(|m| offered.contains(&m.event_id))
    })
    .await;
    until("the first delivery handled", async || {
        handler.handled.lock().unwrap().contains(&first.event_id)
    })
    .await;
    assert_eq!(
        *handler.handled.lock().unwrap(),
        [first.event_id],
        "only the first delivery is handled again; the redelivered and the retried one were looked up"
    );
    stop.send(true).unwrap();
    consumer.await.unwrap();
    support::delete_queues(&channel, &broker, &[]).await;
}

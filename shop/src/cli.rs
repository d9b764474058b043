//! The CLI's commands other than `serve`.

use std::time::Duration;

use anyhow::{Context, bail};
use domain::{Role as UserRole, UserId};
use eventstore::{CommandMetadata, Feed, Position, StoredEvent};
use platform::Settings;
use serde_json::Value;
use uuid::Uuid;

use crate::startup::Stores;
use command_api::usecases::registration::{self, NewUser};

/// Opens the event store without Redis, for the commands that only read or migrate it.
async fn event_store(settings: &Settings) -> anyhow::Result<eventstore::db::PgPool> {
    let pool = eventstore::connect(settings.database_url.expose(), 4)
        .context("DATABASE_URL is not valid")?;
    eventstore::migrate(&pool).await.context(
        "could not reach or migrate PostgreSQL (is it running? see scripts/services.sh)",
    )?;
    Ok(pool)
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    event_store(settings).await?;
    println!("migrations applied");
    Ok(())
}

pub async fn create_user(
    settings: &Settings,
    email: &str,
    password: String,
    name: &str,
    admin: bool,
) -> anyhow::Result<()> {
    let user = NewUser::parse(email, password, name).map_err(|errors| {
        let fields: Vec<String> = errors.iter().map(|(f, m)| format!("{f} {m}")).collect();
        anyhow::anyhow!("invalid input: {}", fields.join("; "))
    })?;
    let stores = Stores::open(settings).await?;
    let state = stores.command_state(settings);
    let role = if admin {
        UserRole::Admin
    } else {
        UserRole::Customer
    };
    let user_id = UserId::new(Uuid::now_v7());
    let mut metadata = CommandMetadata::new_chain();
    metadata.causation_id = Some("cli:user-create".to_owned());
    let email = user.email.to_string();
    registration::register(&state, user, role, user_id, &metadata).await?;
    println!("created {} {user_id} <{email}>", role.as_str());
    Ok(())
}

pub async fn show_stream(
    settings: &Settings,
    aggregate_type: &str,
    aggregate_id: &str,
) -> anyhow::Result<()> {
    let feed = Feed::new(event_store(settings).await?);
    let events = feed.stream(aggregate_type, aggregate_id).await?;
    if events.is_empty() {
        bail!("no stream {aggregate_type}/{aggregate_id}");
    }
    for event in &events {
        println!("{}", line(event));
        println!("    payload:  {}", event.public_payload());
        println!("    metadata: {}", event.metadata);
        println!("    hash:     {}", event.hash);
    }
    Ok(())
}

pub async fn tail(settings: &Settings, count: i64, follow: bool) -> anyhow::Result<()> {
    let feed = Feed::new(event_store(settings).await?);
    let mut after = Position::START;
    for event in feed.last(count).await? {
        println!("{}", line(&event));
        after = event.position;
    }
    if !follow {
        return Ok(());
    }
    if after == Position::START
        && let Some(head) = feed.head().await?
    {
        after = head;
    }
    loop {
        let events = tokio::select! {
            events = feed.read_after(after, 500) => events?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        if events.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        for event in &events {
            println!("{}", line(event));
            after = event.position;
        }
    }
}

/// One event on one line: time, type, stream, who, and what it says.
pub fn line(event: &StoredEvent) -> String {
    let who = event
        .metadata_str("user_id")
        .map_or_else(|| "system".to_owned(), |u| format!("user {}", short(u)));
    format!(
        "{}  {:<22} {}/{} #{}  by {}  {}",
        event.recorded_at.format("%Y-%m-%d %H:%M:%S%.3f"),
        event.event_type,
        event.aggregate_type,
        short(&event.aggregate_id),
        event.sequence,
        who,
        summary(&event.public_payload()),
    )
}

fn short(id: &str) -> &str {
    // UUIDv7s differ at the end within one millisecond; the last 12 characters tell them apart.
    if id.len() == 36 { &id[24..] } else { id }
}

/// `key=value` pairs of the payload's top-level fields, cut to fit a terminal line.
fn summary(payload: &Value) -> String {
    let Value::Object(fields) = payload else {
        return payload.to_string();
    };
    let mut text = fields
        .iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            Value::Object(o) if o.contains_key("amount") && o.contains_key("currency") => {
                format!(
                    "{k}={}{}",
                    o["amount"],
                    o["currency"].as_str().unwrap_or("")
                )
            }
            Value::Array(items) => format!("{k}=[{} items]", items.len()),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(" ");
    if text.chars().count() > 100 {
        text = text.chars().take(99).collect::<String>() + "…";
    }
    text
}

/// Exits non-zero (through the error) when anything in the chain is broken, naming the first break.
pub async fn verify_audit(settings: &Settings) -> anyhow::Result<()> {
    let pool = event_store(settings).await?;
    let report = eventstore::audit::verify(&pool).await?;
    if report.ok {
        println!("audit chain intact: {} events checked", report.checked);
        return Ok(());
    }
    println!(
        "audit chain BROKEN: {} events checked, {} problems",
        report.checked,
        report.broken.len()
    );
    for link in &report.broken {
        let position = link
            .position
            .map_or_else(|| "(gone)".to_owned(), |p| p.to_string());
        println!(
            "  position {position}  {}/{} #{}: {}",
            link.aggregate_type, link.aggregate_id, link.sequence, link.reason
        );
    }
    let first = &report.broken[0];
    bail!(
        "first broken event: {}/{} #{}{}",
        first.aggregate_type,
        first.aggregate_id,
        first.sequence,
        first
            .position
            .map(|p| format!(" at position {p}"))
            .unwrap_or_default()
    )
}

/// `shop dlq list`: the saga's parked messages (they stay parked).
pub async fn list_parked(settings: &Settings) -> anyhow::Result<()> {
    let parked = saga::dlq::list(&crate::startup::broker(settings)).await?;
    if parked.is_empty() {
        println!("no parked messages");
    }
    for p in parked {
        println!(
            "{}  {}  attempts={}  error={}",
            p.message_id, p.routing_key, p.attempts, p.last_error
        );
    }
    Ok(())
}

/// `shop dlq requeue ID | --all`: parked messages back on the saga's queue.
pub async fn requeue_parked(settings: &Settings, id: Option<&str>) -> anyhow::Result<()> {
    let requeued = saga::dlq::requeue(&crate::startup::broker(settings), id).await?;
    println!("requeued {requeued} messages");
    if requeued == 0 && id.is_some() {
        bail!("no parked message with that id");
    }
    Ok(())
}

/// `shop media sweep`: deletes the media files no product image names, older than the grace period.
pub async fn sweep_media(settings: &Settings, grace_minutes: u64) -> anyhow::Result<()> {
    let pool = event_store(settings).await?;
    let store = platform::media::MediaStore::open(&settings.media).context("SHOP_MEDIA_URL")?;
    let swept = crate::media::sweep(&pool, &store, Duration::from_secs(grace_minutes * 60)).await?;
    for key in &swept.deleted {
        println!("deleted {key}");
    }
    println!(
        "{} deleted, {} named by an image, {} younger than {grace_minutes} minutes",
        swept.deleted.len(),
        swept.named,
        swept.young
    );
    Ok(())
}

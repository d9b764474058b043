//! `shop`: serve any role of the shop, and operate it. This file only parses the command line and hands each
//! command to the library (`shop::startup::serve`, `shop::cli`, `shop::replay`, `shop::seed`).

use clap::{Parser, Subcommand};
use platform::Settings;
use shop::startup::Roles;
use shop::{Role, cli};

/// An event-sourced shop. Configuration comes from the environment (DATABASE_URL, REDIS_URL, MONGODB_URL,
/// AMQP_URL, SMTP_URL, JWT_SECRET, SHOP_HTTP_ADDR, SHOP_ENV, ...), with defaults for local services.
#[derive(Parser)]
#[command(name = "shop", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (/api/v1), /health and /metrics, and the storefront if it is built.
    Serve {
        /// Which roles to run, comma-separated; `all` runs every role in this process.
        #[arg(long, value_enum, default_value = "all", value_delimiter = ',')]
        role: Vec<Role>,
    },
    /// Apply pending database migrations (also done at start-up).
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Read the event log.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Rebuild read models from the event store into fresh copies and switch to them while the old ones
    /// keep serving; with --verify, compare the live read models with a rebuild instead.
    Replay {
        /// Every projector.
        #[arg(long, conflicts_with = "projector")]
        all: bool,
        /// One projector: users, orders, product_details, stock, carts, notifications (the catalog is each
        /// query process's own index, rebuilt when it starts).
        #[arg(long)]
        projector: Option<String>,
        /// Rebuild into a shadow copy, print the documents that differ, exit non-zero if any do.
        #[arg(long)]
        verify: bool,
        /// With `--projector catalog --verify`: the running query instance (its base URL) whose catalog
        /// index is compared with one built from the feed up to the position it serves.
        #[arg(long, requires = "verify")]
        instance: Option<String>,
    },
    /// Fill the store with realistic data through the command bus (for demos and benchmarks).
    Seed {
        #[arg(long, default_value_t = 50)]
        products: u64,
        #[arg(long, default_value_t = 10)]
        customers: u64,
        #[arg(long, default_value_t = 20)]
        orders: u64,
        /// Only seed when the store has no products yet.
        #[arg(long)]
        if_empty: bool,
        /// Products without pictures (by default each kind of product gets a generated one).
        #[arg(long)]
        no_images: bool,
    },
    /// Messages the saga gave up on after its retries ("parked").
    Dlq {
        #[command(subcommand)]
        command: DlqCommand,
    },
    /// Check the tamper-evident audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Product images' files in the media store (SHOP_MEDIA_URL).
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
}

#[derive(Debug, Subcommand)]
enum MediaCommand {
    /// Delete the files no product image names (left by a crash between an upload's files and its event,
    /// or by removed images), once they are older than the grace period. `shop serve` does this hourly.
    Sweep {
        /// Minutes a file no image names is kept: an upload stores its files just before its event.
        #[arg(long, default_value_t = 60)]
        grace_minutes: u64,
    },
}

// No `Debug`: it holds a password.
#[derive(Subcommand)]
enum UserCommand {
    /// Create a user, e.g. the first administrator.
    Create {
        #[arg(long)]
        email: String,
        /// The password (8 to 128 characters). Prefer SHOP_USER_PASSWORD to keep it out of shell history.
        #[arg(long, env = "SHOP_USER_PASSWORD", hide_env_values = true)]
        password: String,
        #[arg(long)]
        name: String,
        /// Make the user an administrator.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Print every event of one stream, e.g. `shop events show order 0193...`.
    Show {
        /// Aggregate type: user, product, cart, order, payment.
        aggregate_type: String,
        aggregate_id: String,
    },
    /// Print the latest events of the whole store, one per line.
    Tail {
        /// How many of the latest events to print first.
        #[arg(long, short = 'n', default_value_t = 20)]
        lines: i64,
        /// Keep printing new events as they are stored, until Ctrl-C.
        #[arg(long, short = 'f')]
        follow: bool,
    },
}

#[derive(Debug, Subcommand)]
enum DlqCommand {
    /// List parked messages: id, routing key, attempts, last error (they stay parked).
    List,
    /// Put parked messages back on the saga's queue: one by message id, or --all.
    Requeue {
        /// The message id (the event id) of one parked message.
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        id: Option<String>,
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain of every stream; exits non-zero and names the first broken event if any
    /// event was changed, deleted or reordered.
    Verify,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    platform::telemetry::init(settings.log_format);
    match cli.command {
        Command::Serve { role } => shop::startup::serve(&settings, Roles(role)).await,
        Command::Migrate => cli::migrate(&settings).await,
        Command::User {
            command:
                UserCommand::Create {
                    email,
                    password,
                    name,
                    admin,
                },
        } => cli::create_user(&settings, &email, password, &name, admin).await,
        Command::Events {
            command:
                EventsCommand::Show {
                    aggregate_type,
                    aggregate_id,
                },
        } => cli::show_stream(&settings, &aggregate_type, &aggregate_id).await,
        Command::Events {
            command: EventsCommand::Tail { lines, follow },
        } => cli::tail(&settings, lines, follow).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => cli::verify_audit(&settings).await,
        Command::Replay {
            all,
            projector,
            verify,
            instance,
        } => shop::replay::command(&settings, all, projector, verify, instance).await,
        Command::Dlq {
            command: DlqCommand::List,
        } => cli::list_parked(&settings).await,
        Command::Dlq {
            command: DlqCommand::Requeue { id, .. },
        } => cli::requeue_parked(&settings, id.as_deref()).await,
        Command::Media {
            command: MediaCommand::Sweep { grace_minutes },
        } => cli::sweep_media(&settings, grace_minutes).await,
        Command::Seed {
            products,
            customers,
            orders,
            if_empty,
            no_images,
        } => shop::seed::run(&settings, products, customers, orders, if_empty, !no_images).await,
    }
}

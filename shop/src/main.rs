//! `shop`: serve any role of the shop, and operate it.

use clap::{Parser, Subcommand};
use platform::Settings;
use shop::{Application, Role, cli};

/// An event-sourced shop. Configuration comes from the environment (DATABASE_URL, REDIS_URL, MONGODB_URL,
/// AMQP_URL, SMTP_URL, JWT_SECRET, SHOP_HTTP_ADDR, SHOP_ENV, ...), with defaults for local services.
#[derive(Debug, Parser)]
#[command(name = "shop", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API (/api/v1), /health and /metrics, and the storefront if it is built.
    Serve {
        /// Which role to run; `all` runs every role in this process.
        #[arg(long, value_enum, default_value = "all")]
        role: Role,
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
    /// Check the tamper-evident audit chain.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Debug, Subcommand)]
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
        Command::Serve { role } => {
            let app = Application::build(&settings, role).await?;
            tracing::info!(addr = %settings.http_addr, port = app.port(), ?role, "serving");
            app.run_until_stopped().await
        }
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
    }
}

//! User accounts (aggregate type `user`).

mod aggregate;
mod commands;
mod error;
mod events;
#[cfg(test)]
mod tests;

pub use aggregate::{MAX_NAME_CHARS, User};
pub use commands::UserCommand;
pub use error::UserError;
pub use events::UserEvent;

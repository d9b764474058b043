//! Notifications (aggregate type `notification`, id `<order or user id>:<kind>`): a record that a message
//! was sent, so each is sent once per order and kind however often its trigger is delivered.

mod aggregate;
#[cfg(test)]
mod tests;

pub use aggregate::{
    Notification, NotificationCommand, NotificationError, NotificationEvent, NotificationKind,
};

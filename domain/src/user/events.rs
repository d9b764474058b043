use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::{Email, PasswordHash, Role, UserId};

/// What happened to a user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserEvent {
    UserRegistered {
        user_id: UserId,
        email: Email,
        name: String,
        password_hash: PasswordHash,
        role: Role,
        registered_at: DateTime<Utc>,
    },
    UserRenamed {
        name: String,
        renamed_at: DateTime<Utc>,
    },
    PasswordChanged {
        password_hash: PasswordHash,
        changed_at: DateTime<Utc>,
    },
}

impl DomainEvent for UserEvent {
    fn event_type(&self) -> String {
        let name = match self {
            UserEvent::UserRegistered { .. } => "UserRegistered",
            UserEvent::UserRenamed { .. } => "UserRenamed",
            UserEvent::PasswordChanged { .. } => "PasswordChanged",
        };
        name.to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

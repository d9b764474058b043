//! Users (MongoDB): the profile `GET /me` answers.

use chrono::{DateTime, Utc};
use domain::user::UserEvent;
use eventstore::StoredEvent;
use serde::{Deserialize, Serialize};

use crate::view::{StoreKind, View, ViewError, decode};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: Option<DateTime<Utc>>,
}

impl UserProfile {
    pub const NAME_STR: &'static str = "users";
}

impl View for UserProfile {
    const NAME: &'static str = Self::NAME_STR;
    const STORE: StoreKind = StoreKind::Mongo;

    fn key(event: &StoredEvent) -> Option<String> {
        (event.aggregate_type == "user").then(|| event.aggregate_id.clone())
    }

    fn update(&mut self, event: &StoredEvent) -> Result<(), ViewError> {
        match decode::<UserEvent>(event)? {
            UserEvent::UserRegistered {
                user_id,
                email,
                name,
                role,
                registered_at,
                ..
            } => {
                *self = Self {
                    id: user_id.to_string(),
                    email: email.to_string(),
                    name,
                    role: role.as_str().to_owned(),
                    created_at: Some(registered_at),
                };
            }
            UserEvent::UserRenamed { name, .. } => self.name = name,
            // The hash never reaches a read model.
            UserEvent::PasswordChanged { .. } => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use domain::user::UserEvent;
    use domain::{Email, PasswordHash, Role, UserId};
    use uuid::Uuid;

    use super::*;
    use crate::views::test_events::stored;

    #[test]
    fn a_registered_user_is_shown_without_the_password_hash_and_renamed() {
        let registered = UserEvent::UserRegistered {
            user_id: UserId::new(Uuid::from_u128(1)),
            email: Email::parse("ada@example.com").unwrap(),
            name: "Ada".to_owned(),
            password_hash: PasswordHash::new("$argon2id$secret".to_owned()),
            role: Role::Customer,
            registered_at: Utc::now(),
        };
        let mut view = UserProfile::default();
        view.update(&stored("user", "u", 1, &registered)).unwrap();
        let renamed = UserEvent::UserRenamed {
            name: "Ada L.".to_owned(),
            renamed_at: Utc::now(),
        };
        view.update(&stored("user", "u", 2, &renamed)).unwrap();
        assert_eq!(
            (view.email.as_str(), view.name.as_str(), view.role.as_str()),
            ("ada@example.com", "Ada L.", "customer")
        );
        assert!(!serde_json::to_string(&view).unwrap().contains("argon2"));
    }
}

use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use serde::{Deserialize, Serialize};

use super::{UserCommand, UserError, UserEvent};
use crate::values::text::{self, TextProblem};
use crate::{Email, PasswordHash, Role, UserId};

/// The longest display name a user may have, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A user account.
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    /// Whether `UserRegistered` happened; every other command needs it.
    registered: bool,
    id: Option<UserId>,
    email: Option<Email>,
    name: Option<String>,
    role: Option<Role>,
    /// Kept so the login flow can verify a password against the state it loaded.
    password_hash: Option<PasswordHash>,
    registered_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    pub fn id(&self) -> Option<UserId> {
        self.id
    }

    pub fn email(&self) -> Option<&Email> {
        self.email.as_ref()
    }

    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    pub fn role(&self) -> Option<Role> {
        self.role
    }

    pub fn password_hash(&self) -> Option<&PasswordHash> {
        self.password_hash.as_ref()
    }

    pub fn registered_at(&self) -> Option<DateTime<Utc>> {
        self.registered_at
    }

    /// The events `command` leads to, or the rule it breaks.
    fn decide(&self, command: UserCommand) -> Result<Vec<UserEvent>, UserError> {
        match command {
            UserCommand::Register {
                user_id,
                email,
                name,
                password_hash,
                role,
                at,
            } => {
                if self.registered {
                    return Err(UserError::AlreadyRegistered);
                }
                Ok(vec![UserEvent::UserRegistered {
                    user_id,
                    email,
                    name: valid_name(&name)?,
                    password_hash,
                    role,
                    registered_at: at,
                }])
            }
            _ if !self.registered => Err(UserError::NotRegistered),
            UserCommand::Rename { name, at } => {
                let name = valid_name(&name)?;
                // Renaming to the current name changes nothing, so nothing is recorded.
                if self.name.as_deref() == Some(name.as_str()) {
                    return Ok(vec![]);
                }
                Ok(vec![UserEvent::UserRenamed {
                    name,
                    renamed_at: at,
                }])
            }
            UserCommand::ChangePassword { password_hash, at } => {
                Ok(vec![UserEvent::PasswordChanged {
                    password_hash,
                    changed_at: at,
                }])
            }
        }
    }
}

fn valid_name(raw: &str) -> Result<String, UserError> {
    text::required(raw, MAX_NAME_CHARS).map_err(|problem| match problem {
        TextProblem::Empty => UserError::EmptyName,
        TextProblem::TooLong => UserError::NameTooLong,
    })
}

impl Aggregate for User {
    const TYPE: &'static str = "user";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = ();

    async fn handle(
        &mut self,
        command: UserCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), UserError> {
        for event in self.decide(command)? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: UserEvent) {
        match event {
            UserEvent::UserRegistered {
                user_id,
                email,
                name,
                password_hash,
                role,
                registered_at,
            } => {
                self.registered = true;
                self.id = Some(user_id);
                self.email = Some(email);
                self.name = Some(name);
                self.password_hash = Some(password_hash);
                self.role = Some(role);
                self.registered_at = Some(registered_at);
            }
            UserEvent::UserRenamed { name, .. } => self.name = Some(name),
            UserEvent::PasswordChanged { password_hash, .. } => {
                self.password_hash = Some(password_hash);
            }
        }
    }
}

//! Registration: a new account, its email claimed for it alone.
//!
//! The password is hashed first (off the async threads, a capped number at once); then the email's claim and
//! the user's `UserRegistered` commit in one unit, so a crash never leaves an email claimed by nobody.
//! Shared by `POST /auth/register` and `shop user create`.

use std::collections::BTreeMap;

use chrono::Utc;
use domain::user::{User, UserCommand, UserError};
use domain::{Email, PasswordHash, Role, UserId};
use eventstore::claims::ClaimKind;
use eventstore::db::DbError;
use eventstore::{BusError, CommandMetadata, Executed, Taken};

use crate::passwords::Busy;
use crate::state::CommandState;

/// Passwords are 8 to 128 characters long.
pub const PASSWORD_CHARS: std::ops::RangeInclusive<usize> = 8..=128;
/// Names are at most this long (after trimming).
pub const NAME_MAX_CHARS: usize = 200;

/// A new account as the domain sees it, after every field was checked.
pub struct NewUser {
    pub email: Email,
    pub password: String,
    pub name: String,
}

impl NewUser {
    /// Checks every field and reports all problems at once, as field → message.
    pub fn parse(
        email: &str,
        password: String,
        name: &str,
    ) -> Result<Self, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let email = Email::parse(email)
            .map_err(|_| {
                errors.insert(
                    "email".to_owned(),
                    "must be a valid email address".to_owned(),
                )
            })
            .ok();
        if !PASSWORD_CHARS.contains(&password.chars().count()) {
            errors.insert(
                "password".to_owned(),
                "must be 8 to 128 characters long".to_owned(),
            );
        }
        let name = name.trim().to_owned();
        if name.is_empty() {
            errors.insert("name".to_owned(), "must not be empty".to_owned());
        } else if name.chars().count() > NAME_MAX_CHARS {
            errors.insert(
                "name".to_owned(),
                format!("must be at most {NAME_MAX_CHARS} characters"),
            );
        }
        match email {
            Some(email) if errors.is_empty() => Ok(Self {
                email,
                password,
                name,
            }),
            _ => Err(errors),
        }
    }
}

/// Why no account was made. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum RegistrationError {
    /// Another account has the email.
    #[error(transparent)]
    EmailTaken(Taken),
    /// Every password hash this process allows at once is being computed.
    #[error("too many password hashes at once")]
    Busy,
    #[error("the password could not be hashed: {0}")]
    Hash(String),
    #[error(transparent)]
    Claims(#[from] DbError),
    #[error(transparent)]
    User(#[from] BusError<UserError>),
    #[error(transparent)]
    Commit(BusError<Taken>),
}

/// Registers `user` as `user_id` with `role`; what the append did.
pub async fn register(
    state: &CommandState,
    user: NewUser,
    role: Role,
    user_id: UserId,
    metadata: &CommandMetadata,
) -> Result<Executed, RegistrationError> {
    let id = user_id.to_string();
    // A cheap early answer for an email in use, before the costly hash; the claim below decides.
    if state
        .claims
        .owner(ClaimKind::Email, user.email.as_str())
        .await?
        .is_some_and(|owner| owner != id)
    {
        return Err(RegistrationError::EmailTaken(Taken(ClaimKind::Email)));
    }
    let hash = state
        .hashing
        .hash(user.password)
        .await
        .map_err(|Busy| RegistrationError::Busy)?
        .map_err(|e| RegistrationError::Hash(e.to_string()))?;
    let command = UserCommand::Register {
        user_id,
        email: user.email.clone(),
        name: user.name,
        password_hash: PasswordHash::new(hash),
        role,
        at: Utc::now(),
    };
    let metadata = metadata.clone().answering(201, &id);
    let mut unit = state.bus.unit(&metadata);
    unit.claim(ClaimKind::Email, user.email.as_str(), &id);
    unit.decide::<User>(&id, command, None).await?;
    match unit.commit().await {
        Ok(mut executed) => Ok(executed.remove(0)),
        Err(BusError::Rejected(taken)) => Err(RegistrationError::EmailTaken(taken)),
        Err(other) => Err(RegistrationError::Commit(other)),
    }
}

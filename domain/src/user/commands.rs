use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Email, PasswordHash, Role, UserId};

/// What can be asked of a user account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum UserCommand {
    /// Opens the account. The caller hashes the password and checks that the email is unused,
    /// which needs a lookup across users that one aggregate cannot do.
    Register {
        user_id: UserId,
        email: Email,
        name: String,
        password_hash: PasswordHash,
        role: Role,
        at: DateTime<Utc>,
    },
    Rename {
        name: String,
        at: DateTime<Utc>,
    },
    ChangePassword {
        password_hash: PasswordHash,
        at: DateTime<Utc>,
    },
}

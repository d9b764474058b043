//! Which parts of the shop a process serves (`--role`).

/// Which parts of the shop this process serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Role {
    /// Everything in one process.
    All,
    /// The write endpoints.
    CommandApi,
    /// The read endpoints.
    QueryApi,
    /// The projectors that keep the read models up to date.
    Projectors,
    /// The checkout saga (and its payment deadlines).
    Saga,
    /// The relay that publishes the event log to RabbitMQ.
    Relay,
}

/// The roles one process plays, e.g. `--role command-api,query-api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles(pub Vec<Role>);

impl Roles {
    pub fn all() -> Self {
        Self(vec![Role::All])
    }

    pub(crate) fn has(&self, role: Role) -> bool {
        self.0.iter().any(|r| *r == Role::All || *r == role)
    }

    pub(crate) fn serves_commands(&self) -> bool {
        self.has(Role::CommandApi)
    }

    pub(crate) fn serves_queries(&self) -> bool {
        self.has(Role::QueryApi)
    }

    pub(crate) fn runs_projectors(&self) -> bool {
        self.has(Role::Projectors)
    }

    pub(crate) fn runs_saga(&self) -> bool {
        self.has(Role::Saga)
    }

    pub(crate) fn runs_relay(&self) -> bool {
        self.has(Role::Relay)
    }
}

impl From<Role> for Roles {
    fn from(role: Role) -> Self {
        Self(vec![role])
    }
}

//! Who asks, and what their role lets them ask for. A use case that changes something takes a
//! proof of the least role it needs ([`Contributor`], [`Admin`]), which only [`Caller`] makes,
//! after checking the role: a handle of such a use case cannot exist for a caller whose role
//! may not use it.

use chrono::{DateTime, Utc};
use segsync_store::{Connection, Role, UsableBy, User};
use uuid::Uuid;

use crate::error::AppError;

/// The signed-in user a request acts for (through a session or an API token).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The API token the request came with; none for a session.
    pub token: Option<CallerToken>,
}

/// The API token a request came with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallerToken {
    pub id: Uuid,
    pub expires_at: Option<DateTime<Utc>>,
    pub scope: segsync_domain::TokenScope,
}

/// A caller whose role is contributor or admin: they configure and run exports.
#[derive(Debug, Clone, Copy)]
pub struct Contributor<'a> {
    caller: &'a Caller,
}

/// A caller whose role is admin: they manage connections, users and the system.
#[derive(Debug, Clone, Copy)]
pub struct Admin<'a> {
    caller: &'a Caller,
}

impl Caller {
    /// The caller of a session (or of the command line).
    pub fn new(user: User) -> Self {
        Self { user, token: None }
    }

    /// The caller of an API token.
    pub fn with_token(user: User, token: CallerToken) -> Self {
        Self {
            user,
            token: Some(token),
        }
    }

    /// The caller as a contributor, or 403 naming `what` their role may not do.
    pub fn contributor(&self, what: &str) -> Result<Contributor<'_>, AppError> {
        if self.user.role >= Role::Contributor {
            Ok(Contributor { caller: self })
        } else {
            Err(AppError::forbidden(what))
        }
    }

    /// The caller as an admin, or 403 naming `what` their role may not do.
    pub fn admin(&self, what: &str) -> Result<Admin<'_>, AppError> {
        if self.user.role >= Role::Admin {
            Ok(Admin { caller: self })
        } else {
            Err(AppError::forbidden(what))
        }
    }

    /// Whether the caller may send through `connection`: admins always, contributors when an
    /// admin shared it with them, viewers never.
    pub fn may_use(&self, connection: &Connection) -> bool {
        match self.user.role {
            Role::Admin => true,
            Role::Contributor => connection.usable_by == UsableBy::AdminsAndContributors,
            Role::Viewer => false,
        }
    }
}

impl<'a> Contributor<'a> {
    pub fn caller(&self) -> &'a Caller {
        self.caller
    }
}

impl<'a> Admin<'a> {
    pub fn caller(&self) -> &'a Caller {
        self.caller
    }

    /// An admin may do whatever a contributor may.
    pub fn contributor(&self) -> Contributor<'a> {
        Contributor {
            caller: self.caller,
        }
    }
}

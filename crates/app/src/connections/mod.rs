//! Connections to Constant Contact. Admins create, change, authenticate and remove them;
//! contributors see the name and type of those shared with them, and never any secret; whoever
//! may use a connection reads its account's lists and custom fields.

mod oauth;
mod view;

pub use oauth::{AuthorizationStarted, OAuthRedirect};

pub use view::{
    CONSENT_TEXT, ConnectionChange, ConnectionForm, ConnectionSummary, ConnectionView, ConsentText,
    CustomFieldView, ListView, OptOutView, Visible,
};

use segsync_store::{Connection, NewConnection, Role, UsableBy};
use uuid::Uuid;

use crate::App;
use crate::audit::{Subject, record};
use crate::caller::{Admin, Caller};
use crate::error::{AppError, Code, client_failure};

/// What admins see of `connection`, with the exports that use it.
pub(crate) async fn full_view(
    app: &App,
    connection: Connection,
) -> Result<ConnectionView, AppError> {
    let exports = app.store().exports_using_connection(connection.id).await?;
    Ok(ConnectionView {
        id: connection.id,
        name: connection.name,
        kind: "constant_contact",
        usable_by: connection.usable_by,
        health: connection.health,
        health_reason: connection.health_reason,
        consent_by: connection.consent_by,
        consent_at: connection.consent_at,
        export_user_id: connection.export_user_id,
        exports,
        contact_delete: connection.contact_delete,
        created_at: connection.created_at,
        updated_at: connection.updated_at,
    })
}

/// Records that `actor_id` did `action` to `connection`.
pub(crate) async fn audit(
    app: &App,
    actor_id: Uuid,
    action: &str,
    connection: &Connection,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    let subject = Subject {
        kind: "connection",
        id: connection.id.to_string(),
        name: &connection.name,
    };
    record(app.store(), Some(actor_id), action, subject, detail).await
}

/// Reading connections, as much as the caller's role shows, and the lists and custom fields of
/// those the caller may use.
pub struct Connections<'a> {
    app: &'a App,
    caller: &'a Caller,
}

impl<'a> Connections<'a> {
    pub(crate) fn new(app: &'a App, caller: &'a Caller) -> Self {
        Self { app, caller }
    }

    /// The connections the caller may see: all for admins, those shared with contributors
    /// for everyone else.
    pub async fn visible(&self) -> Result<Vec<Connection>, AppError> {
        let mut connections = self.app.store().connections().await?;
        if self.caller.user.role != Role::Admin {
            connections
                .retain(|connection| connection.usable_by == UsableBy::AdminsAndContributors);
        }
        Ok(connections)
    }

    /// `connection` as the caller sees it: in full for admins, its name and type for others.
    pub async fn view(&self, connection: Connection) -> Result<Visible, AppError> {
        if self.caller.user.role == Role::Admin {
            return Ok(Visible::Full(Box::new(
                full_view(self.app, connection).await?,
            )));
        }
        Ok(Visible::Summary(ConnectionSummary {
            id: connection.id,
            name: connection.name,
            kind: "constant_contact",
        }))
    }

    pub async fn get(&self, id: Uuid) -> Result<Visible, AppError> {
        let connection = self.app.store().connection(id).await?;
        if self.caller.user.role != Role::Admin
            && connection.usable_by != UsableBy::AdminsAndContributors
        {
            return Err(AppError::forbidden("see this connection"));
        }
        self.view(connection).await
    }

    /// The contact lists of the connection's Constant Contact account, to pick a List ID from:
    /// as Constant Contact answered within the last minute, within the API key's daily budget.
    pub async fn lists(&self, id: Uuid) -> Result<Vec<ListView>, AppError> {
        let connection = self.usable(id).await?;
        let app = self.app;
        // An unusable connection says so at once, whatever was looked up before.
        let client = app.engine().clients().for_connection(&connection)?;
        app.look_ups
            .lists
            .get_or_look_up(connection.id, async {
                let lists = app
                    .metered(&client, 1, async {
                        client
                            .all_lists()
                            .await
                            .map_err(|error| client_failure(&connection, &error))
                    })
                    .await?;
                Ok(lists
                    .into_iter()
                    .map(|list| ListView {
                        list_id: list.list_id,
                        name: list.name,
                        membership_count: list.membership_count,
                    })
                    .collect())
            })
            .await
    }

    /// The custom fields of the connection's Constant Contact account, which the data matching
    /// may fill (an import may set only fields that exist): as Constant Contact answered
    /// within the last minute, within the API key's daily budget.
    pub async fn custom_fields(&self, id: Uuid) -> Result<Vec<CustomFieldView>, AppError> {
        let connection = self.usable(id).await?;
        let app = self.app;
        // An unusable connection says so at once, whatever was looked up before.
        let client = app.engine().clients().for_connection(&connection)?;
        app.look_ups
            .custom_fields
            .get_or_look_up(connection.id, async {
                let fields = app
                    .metered(&client, 1, async {
                        client
                            .custom_fields()
                            .await
                            .map_err(|error| client_failure(&connection, &error))
                    })
                    .await?;
                Ok(fields
                    .into_iter()
                    .map(|field| CustomFieldView {
                        key: format!(
                            "{}{}",
                            constant_contact::fields::CUSTOM_FIELD_PREFIX,
                            field.name
                        ),
                        name: field.name,
                        label: field.label,
                    })
                    .collect())
            })
            .await
    }

    /// The connection, when the caller may send through it.
    async fn usable(&self, id: Uuid) -> Result<Connection, AppError> {
        let connection = self.app.store().connection(id).await?;
        if !self.caller.may_use(&connection) {
            return Err(AppError::forbidden("use this connection"));
        }
        Ok(connection)
    }
}

/// Creating, changing and removing connections, and becoming their export user: admins.
pub struct ConnectionAdmin<'a> {
    app: &'a App,
    by: Admin<'a>,
}

fn checked_name(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::invalid(
            "name",
            "a display name of 1 to 100 characters",
        ));
    }
    Ok(name.to_owned())
}

impl<'a> ConnectionAdmin<'a> {
    pub(crate) fn new(app: &'a App, by: Admin<'a>) -> Self {
        Self { app, by }
    }

    /// Adds a connection, once the admin agreed to the data-privacy and compliance terms. It
    /// still needs authenticating (OAuth) before it can send.
    pub async fn create(&self, form: &ConnectionForm) -> Result<ConnectionView, AppError> {
        let name = checked_name(&form.name)?;
        if !form.consent {
            return Err(AppError::new(
                Code::ConsentRequired,
                "consent: agree to the data-privacy and compliance terms to add a connection",
            ));
        }
        let connection = self
            .app
            .store()
            .create_connection(&NewConnection {
                name,
                usable_by: form.usable_by,
                created_by: self.user_id(),
            })
            .await?;
        let detail = serde_json::json!({ "usable_by": connection.usable_by, "consent": true });
        audit(
            self.app,
            self.user_id(),
            "created",
            &connection,
            Some(detail),
        )
        .await?;
        full_view(self.app, connection).await
    }

    pub async fn update(
        &self,
        id: Uuid,
        change: &ConnectionChange,
    ) -> Result<ConnectionView, AppError> {
        let current = self.app.store().connection(id).await?;
        let name = match &change.name {
            Some(name) => checked_name(name)?,
            None => current.name.clone(),
        };
        let connection = self
            .app
            .store()
            .update_connection(id, &name, change.usable_by.unwrap_or(current.usable_by))
            .await?;
        let connection = match change.contact_delete {
            Some(delete) if delete != connection.contact_delete => {
                self.app.store().set_contact_delete(id, delete).await?;
                self.app.store().connection(id).await?
            }
            _ => connection,
        };
        audit(self.app, self.user_id(), "changed", &connection, None).await?;
        full_view(self.app, connection).await
    }

    /// The contacts Constant Contact says opted out, as segsync learned them for this connection
    /// (its exports never send them), latest learned first.
    pub async fn opt_outs(&self, id: Uuid) -> Result<Vec<OptOutView>, AppError> {
        self.app.store().connection(id).await?;
        Ok(self
            .app
            .store()
            .opt_outs(id)
            .await?
            .into_iter()
            .map(OptOutView::from)
            .collect())
    }

    /// Removes a connection no export uses, and forgets its client.
    pub async fn remove(&self, id: Uuid) -> Result<(), AppError> {
        let connection = self.app.store().connection(id).await?;
        self.app.store().delete_connection(id).await?;
        self.app.engine().clients().forget(id);
        self.app.look_ups.forget(id);
        audit(self.app, self.user_id(), "removed", &connection, None).await
    }

    /// "Add yourself as export user": scheduled runs of this connection's exports act as the
    /// admin and are attributed to them.
    pub async fn become_export_user(&self, id: Uuid) -> Result<ConnectionView, AppError> {
        self.app.store().set_export_user(id, self.user_id()).await?;
        let connection = self.app.store().connection(id).await?;
        let detail = serde_json::json!({ "export_user": self.by.caller().user.username });
        audit(
            self.app,
            self.user_id(),
            "changed",
            &connection,
            Some(detail),
        )
        .await?;
        full_view(self.app, connection).await
    }

    fn user_id(&self) -> Uuid {
        self.by.caller().user.id
    }
}

//! Admin › Connections: the list, adding one with the data-privacy consent, authenticating it
//! with Constant Contact through the browser, the export user, changes and removal.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use segsync_app::connections::{
    CONSENT_TEXT, ConnectionChange, ConnectionForm, ConnectionView, Visible,
};
use segsync_store::{Health, UsableBy};
use serde::Deserialize;
use uuid::Uuid;

use super::fields::Fields;
use super::listing::{ListQuery, Listing};
use super::page::{Nav, Problems, act, failure, invalid, render};
use super::visitor::Visitor;
use crate::error::{AppError, Code};
use crate::state::AppState;

fn usable_by_label(usable_by: UsableBy) -> &'static str {
    match usable_by {
        UsableBy::Admins => "Admins only",
        UsableBy::AdminsAndContributors => "Admins and contributors",
    }
}

fn health_label(health: Health) -> &'static str {
    match health {
        Health::Healthy => "Connected",
        Health::NotAuthenticated => "Not authenticated yet",
        Health::NeedsReauthentication => "Needs re-authentication",
    }
}

fn admin_only(visitor: &Visitor) -> Result<(), AppError> {
    visitor.caller.admin("manage connections").map(drop)
}

#[derive(Template)]
#[template(path = "console/connections.html")]
struct ConnectionsPage {
    nav: Nav,
    connections: Vec<ConnectionView>,
    oauth_error: Option<String>,
    listing: Listing,
}

#[derive(Deserialize)]
pub(crate) struct OAuthOutcome {
    oauth_error: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(query): Query<OAuthOutcome>,
    Query(search): Query<ListQuery>,
) -> Response {
    if let Err(refusal) = admin_only(&visitor) {
        return failure(refusal);
    }
    let visible = async {
        let connections = state.app.connections(&visitor.caller);
        let mut visible = Vec::new();
        for connection in connections.visible().await? {
            visible.push(connections.view(connection).await?);
        }
        Ok::<_, AppError>(visible)
    };
    let visible = match visible.await {
        Ok(visible) => visible,
        Err(error) => return failure(error),
    };
    let connections = visible
        .into_iter()
        .filter_map(|visible| match visible {
            Visible::Full(view) => Some(*view),
            Visible::Summary(_) => None,
        })
        .collect();
    let (connections, listing) =
        Listing::page("/connections", &search, connections, |connection| {
            connection.name.clone()
        });
    render(&ConnectionsPage {
        nav: Nav::new(&visitor, "connections"),
        connections,
        listing,
        oauth_error: query.oauth_error,
    })
}

#[derive(Template)]
#[template(path = "console/connection_new.html")]
struct NewConnectionPage {
    nav: Nav,
    name: String,
    usable_by: String,
    consent_text: &'static str,
    problems: Problems,
}

pub(crate) async fn new(visitor: Visitor) -> Response {
    if let Err(refusal) = admin_only(&visitor) {
        return failure(refusal);
    }
    render(&NewConnectionPage {
        nav: Nav::new(&visitor, "connections"),
        name: String::new(),
        usable_by: "admins".to_owned(),
        consent_text: CONSENT_TEXT,
        problems: Problems::default(),
    })
}

fn usable_by(fields: &Fields) -> UsableBy {
    if fields.get("usable_by") == "admins_and_contributors" {
        UsableBy::AdminsAndContributors
    } else {
        UsableBy::Admins
    }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let form = ConnectionForm {
        name: fields.get("name").to_owned(),
        usable_by: usable_by(&fields),
        consent: fields.has("consent"),
    };
    let created = async {
        state
            .app
            .connection_admin(&visitor.caller, "add connections")?
            .create(&form)
            .await
    };
    match created.await {
        Ok(view) => Redirect::to(&format!("/connections/{}", view.id)).into_response(),
        Err(error) if error.status.is_client_error() && error.status.as_u16() != 403 => {
            invalid(&NewConnectionPage {
                nav: Nav::new(&visitor, "connections"),
                name: fields.get("name").to_owned(),
                usable_by: fields.get("usable_by").to_owned(),
                consent_text: CONSENT_TEXT,
                problems: Problems::from_error(&error),
            })
        }
        Err(error) => failure(error),
    }
}

#[derive(Template)]
#[template(path = "console/connection.html")]
struct ConnectionPage {
    nav: Nav,
    connection: ConnectionView,
    export_user: Option<String>,
    you_are_export_user: bool,
    authenticated: bool,
    /// The redirect URI Constant Contact must have registered for the API key.
    redirect_uri: String,
    problems: Problems,
}

impl ConnectionPage {
    fn usable_by(&self) -> &'static str {
        usable_by_label(self.connection.usable_by)
    }

    fn health(&self) -> &'static str {
        health_label(self.connection.health)
    }
}

#[derive(Deserialize)]
pub(crate) struct PageFlags {
    authenticated: Option<String>,
}

async fn connection_page(
    state: &AppState,
    visitor: &Visitor,
    id: Uuid,
    authenticated: bool,
    problems: Problems,
) -> Result<ConnectionPage, AppError> {
    let visible = state.app.connections(&visitor.caller).get(id).await?;
    let Visible::Full(connection) = visible else {
        return Err(AppError::forbidden("manage connections"));
    };
    let export_user = match connection.export_user_id {
        Some(user) => Some(
            state
                .app
                .user_admin(&visitor.caller, "manage connections")?
                .get(user)
                .await?
                .display_name,
        ),
        None => None,
    };
    Ok(ConnectionPage {
        nav: Nav::new(visitor, "connections"),
        you_are_export_user: connection.export_user_id == Some(visitor.caller.user.id),
        connection: *connection,
        export_user,
        authenticated,
        redirect_uri: state.config.oauth_callback_url().to_string(),
        problems,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Query(flags): Query<PageFlags>,
) -> Response {
    if let Err(refusal) = admin_only(&visitor) {
        return failure(refusal);
    }
    match connection_page(
        &state,
        &visitor,
        id,
        flags.authenticated.is_some(),
        Problems::default(),
    )
    .await
    {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

pub(crate) async fn update(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let change = ConnectionChange {
        name: Some(fields.get("name").to_owned()),
        usable_by: Some(usable_by(&fields)),
        contact_delete: Some(fields.get("contact_delete") == "on"),
    };
    let changed = async {
        state
            .app
            .connection_admin(&visitor.caller, "change connections")?
            .update(id, &change)
            .await
    };
    match changed.await {
        Ok(_) => Redirect::to(&format!("/connections/{id}")).into_response(),
        Err(error) if error.status.as_u16() == 422 => {
            match connection_page(&state, &visitor, id, false, Problems::from_error(&error)).await {
                Ok(page) => invalid(&page),
                Err(error) => failure(error),
            }
        }
        Err(error) => failure(error),
    }
}

/// Sends the browser to Constant Contact's consent page; it comes back through
/// `/oauth/callback` to this connection's page.
pub(crate) async fn authenticate(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        async {
            state
                .app
                .connection_admin(&visitor.caller, "authenticate connections")?
                .start_authorization(id, &state.config.oauth_callback_url())
                .await
        },
        |started| started.authorization_url,
    )
    .await
}

pub(crate) async fn become_export_user(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    act(
        &visitor,
        &fields,
        async {
            state
                .app
                .connection_admin(&visitor.caller, "set the export user")?
                .become_export_user(id)
                .await
        },
        |_| format!("/connections/{id}"),
    )
    .await
}

#[derive(Template)]
#[template(path = "console/connection_remove.html")]
struct RemovePage {
    nav: Nav,
    connection: ConnectionView,
}

pub(crate) async fn confirm_removal(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
) -> Response {
    if let Err(refusal) = admin_only(&visitor) {
        return failure(refusal);
    }
    match connection_page(&state, &visitor, id, false, Problems::default()).await {
        Ok(page) => render(&RemovePage {
            nav: page.nav,
            connection: page.connection,
        }),
        Err(error) => failure(error),
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    visitor: Visitor,
    Path(id): Path<Uuid>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let removed = async {
        state
            .app
            .connection_admin(&visitor.caller, "remove connections")?
            .remove(id)
            .await
    };
    match removed.await {
        Ok(_) => Redirect::to("/connections").into_response(),
        Err(error) if error.code == Code::ConnectionInUse => {
            confirm_removal(State(state), visitor, Path(id)).await
        }
        Err(error) => failure(error),
    }
}

//! Users (admins): each user's role and state, with the buttons that change them; and every
//! user's own password. Each button calls the API's handler as the visitor.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use segsync_store::Role;
use uuid::Uuid;

use super::fields::Fields;
use super::listing::{ListQuery, Listing};
use super::page::{Nav, Problems, act, failure, invalid, render};
use super::visitor::Visitor;
use segsync_app::users::{PasswordChange, RoleChange, UserForm, UserView};

use crate::auth::{hash_token, session_token};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    nav: Nav,
    users: Vec<UserView>,
    listing: Listing,
    roles: [&'static str; 3],
    /// The add form as submitted, when it has problems.
    adding: NewUserFields,
    problems: Problems,
    /// A user just added with a generated password: their name and the password, shown once.
    added: Option<(String, String)>,
}

#[derive(Default)]
struct NewUserFields {
    username: String,
    display_name: String,
    role: String,
}

impl UsersPage {
    async fn load(
        state: AppState,
        visitor: &Visitor,
        search: &ListQuery,
    ) -> Result<Self, crate::error::AppError> {
        let everyone = state
            .app
            .user_admin(&visitor.caller, "list users")?
            .all()
            .await?;
        let (users, listing) = Listing::page("/users", search, everyone, |user| {
            format!("{} {}", user.username, user.display_name)
        });
        Ok(Self {
            nav: Nav::new(visitor, "users"),
            users,
            listing,
            roles: ["admin", "contributor", "viewer"],
            adding: NewUserFields {
                role: "viewer".to_owned(),
                ..NewUserFields::default()
            },
            problems: Problems::default(),
            added: None,
        })
    }
}

pub(crate) async fn list(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(search): Query<ListQuery>,
) -> Response {
    match UsersPage::load(state, &visitor, &search).await {
        Ok(page) => render(&page),
        Err(error) => failure(error),
    }
}

/// Adds a user. A generated password is shown on the page this once (never in a URL).
pub(crate) async fn add(
    State(state): State<AppState>,
    visitor: Visitor,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let adding = NewUserFields {
        username: fields.get("username").trim().to_owned(),
        display_name: fields.get("display_name").trim().to_owned(),
        role: fields.get("role").to_owned(),
    };
    let mut problems = Problems::default();
    let created = match Role::parse(&adding.role) {
        None => {
            problems.at("role", "admin, contributor or viewer");
            None
        }
        Some(role) => {
            let form = UserForm {
                username: adding.username.clone(),
                display_name: fields.text("display_name"),
                role,
                password: fields.text("password"),
            };
            let created = async {
                state
                    .app
                    .user_admin(&visitor.caller, "add users")?
                    .create(form)
                    .await
            };
            match created.await {
                Ok(created) => Some(created),
                Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
                    problems = Problems::from_error(&error);
                    None
                }
                Err(error) if error.status == StatusCode::CONFLICT => {
                    problems.at("username", error.message);
                    None
                }
                Err(error) => return failure(error),
            }
        }
    };
    let mut page = match UsersPage::load(state, &visitor, &ListQuery::default()).await {
        Ok(page) => page,
        Err(error) => return failure(error),
    };
    match created {
        Some(created) => match created.password {
            Some(password) => {
                page.added = Some((created.user.username, password));
                render(&page)
            }
            None => Redirect::to("/users").into_response(),
        },
        None => {
            page.adding = adding;
            page.problems = problems;
            invalid(&page)
        }
    }
}

/// The buttons of a user's row: `disable`, `enable`, `role` (with the `role` field) and
/// `sign_out`.
pub(crate) async fn change(
    State(state): State<AppState>,
    visitor: Visitor,
    Path((id, action)): Path<(Uuid, String)>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let admin = match state.app.user_admin(&visitor.caller, "manage users") {
        Ok(admin) => admin,
        Err(error) => return failure(error),
    };
    match action.as_str() {
        "disable" => act(&visitor, &fields, admin.set_disabled(id, true), back).await,
        "enable" => act(&visitor, &fields, admin.set_disabled(id, false), back).await,
        "sign-out" => act(&visitor, &fields, admin.sign_out_everywhere(id), back).await,
        "role" => {
            let Some(role) = Role::parse(fields.get("role")) else {
                return failure(crate::error::AppError::invalid(
                    "role",
                    "admin, contributor or viewer",
                ));
            };
            let change = RoleChange { role };
            act(&visitor, &fields, admin.change_role(id, &change), back).await
        }
        _ => failure(crate::error::AppError::new(
            crate::error::Code::NotFound,
            format!("there is no action {action:?} for users"),
        )),
    }
}

/// Back to the users page, whatever the change gave.
fn back<T>(_: T) -> String {
    "/users".to_owned()
}

#[derive(Template)]
#[template(path = "console/password.html")]
struct PasswordPage {
    nav: Nav,
    problems: Problems,
    notice: Option<&'static str>,
}

#[derive(serde::Deserialize)]
pub(crate) struct Changed {
    #[serde(default)]
    changed: bool,
}

pub(crate) async fn password_page(visitor: Visitor, Query(changed): Query<Changed>) -> Response {
    render(&PasswordPage {
        nav: Nav::new(&visitor, "password"),
        problems: Problems::default(),
        notice: changed
            .changed
            .then_some("Your password is changed; your other sessions and your API tokens ended."),
    })
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    visitor: Visitor,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(error) = visitor.check_form(fields.csrf()) {
        return failure(error);
    }
    let mut problems = Problems::default();
    if fields.get("new_password") != fields.get("confirm_password") {
        problems.at("confirm_password", "the two new passwords differ");
    } else {
        let change = PasswordChange {
            current_password: fields.get("current_password").to_owned(),
            new_password: fields.get("new_password").to_owned(),
        };
        let this_session = session_token(&headers).map(|token| hash_token(&token));
        let changed = state
            .app
            .account(&visitor.caller)
            .change_password(change, this_session.as_deref())
            .await;
        match changed {
            Ok(_) => return Redirect::to("/account/password?changed=true").into_response(),
            Err(error) if error.status == axum::http::StatusCode::UNPROCESSABLE_ENTITY => {
                problems = Problems::from_error(&error);
            }
            Err(error) => return failure(error),
        }
    }
    invalid(&PasswordPage {
        nav: Nav::new(&visitor, "password"),
        problems,
        notice: None,
    })
}

//! The audit log, written for a request's caller by the routes not yet in `segsync_app`.

pub(crate) use segsync_app::audit::Subject;

use crate::auth::Caller;
use crate::error::AppError;
use crate::state::AppState;

pub(crate) async fn record(
    state: &AppState,
    caller: &Caller,
    action: &str,
    subject: Subject<'_>,
    detail: Option<serde_json::Value>,
) -> Result<(), AppError> {
    segsync_app::audit::record(&state.store, Some(caller.user.id), action, subject, detail).await
}

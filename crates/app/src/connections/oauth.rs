//! "Authenticate with Constant Contact": the authorization-code flow with `state` and PKCE. An
//! admin starts it for a connection; the browser goes to Constant Contact's consent page and
//! comes back with a code, which is exchanged and the tokens sealed into the store. A state is
//! used once, lives ten minutes, and is finished only in the session of the admin who started
//! it.

use chrono::{Duration, Utc};
use constant_contact::config::DEFAULT_SCOPES;
use secrecy::{ExposeSecret, SecretString};
use segsync_connections::seal_tokens;
use segsync_store::OAuthFlow;
use serde::{Deserialize, Serialize};
use url::Url;
use uuid::Uuid;

use super::{ConnectionAdmin, audit};
use crate::App;
use crate::caller::Caller;
use crate::error::{AppError, Code};
use crate::secrets::hash_token;

/// How long a started flow waits for its redirect.
const FLOW_LIFETIME_MINUTES: i64 = 10;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthorizationStarted {
    /// Send the browser here.
    pub authorization_url: String,
    /// Where Constant Contact sends the browser back: it must be registered as a redirect URI
    /// of the API key, or Constant Contact refuses the request.
    pub redirect_uri: String,
}

/// What Constant Contact's redirect carries back.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OAuthRedirect {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

fn verifier_context(state_hash: &str) -> String {
    format!("oauth-verifier:{state_hash}")
}

impl ConnectionAdmin<'_> {
    /// Starts authenticating the connection: where to send the admin's browser, which comes
    /// back to `redirect_uri`.
    pub async fn start_authorization(
        &self,
        id: Uuid,
        redirect_uri: &Url,
    ) -> Result<AuthorizationStarted, AppError> {
        let connection = self.app.store().connection(id).await?;
        let clients = self.app.engine().clients();
        let request = clients
            .oauth()
            .authorization_url(DEFAULT_SCOPES)
            .map_err(AppError::internal)?;
        let state_hash = hash_token(request.state.expose_secret());
        let verifier_sealed = clients.sealer().seal(
            request.pkce_verifier.expose_secret().as_bytes(),
            &verifier_context(&state_hash),
        );
        self.app
            .store()
            .create_oauth_flow(
                &state_hash,
                &OAuthFlow {
                    connection_id: connection.id,
                    user_id: self.user_id(),
                    verifier_sealed,
                    created_at: Utc::now(),
                },
            )
            .await?;
        Ok(AuthorizationStarted {
            authorization_url: request.url.to_string(),
            redirect_uri: redirect_uri.to_string(),
        })
    }
}

impl App {
    /// Completes an authorisation the redirect came back with, only for the admin who started
    /// it: a redirect followed in anyone else's browser (a link an attacker sent, with an
    /// authorisation of their own account) is refused, and the flow is spent. Returns the
    /// connection authenticated.
    pub async fn finish_authorization(
        &self,
        caller: Option<&Caller>,
        redirect: OAuthRedirect,
    ) -> Result<Uuid, AppError> {
        let refused = |message: String| AppError::new(Code::Oauth, message);
        let returned_state = redirect
            .state
            .ok_or_else(|| refused("the redirect carries no state".into()))?;
        let state_hash = hash_token(&returned_state);
        let flow = self
            .store()
            .take_oauth_flow(&state_hash)
            .await?
            .ok_or_else(|| {
                refused(
                    "this authorisation was not started here, or was already used; start again"
                        .into(),
                )
            })?;
        if caller.is_none_or(|caller| caller.user.id != flow.user_id) {
            return Err(refused(
                "this authorisation must be finished in the session of the admin who started it; sign in as that admin and start again".into(),
            ));
        }
        if Utc::now() - flow.created_at > Duration::minutes(FLOW_LIFETIME_MINUTES) {
            return Err(refused(format!(
                "the authorisation took longer than {FLOW_LIFETIME_MINUTES} minutes; start again"
            )));
        }
        if let Some(error) = redirect.error {
            let description = redirect
                .error_description
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(refused(format!(
                "Constant Contact answered {error}{description}"
            )));
        }
        let code = redirect
            .code
            .ok_or_else(|| refused("the redirect carries no code".into()))?;
        let clients = self.engine().clients();
        let verifier = clients
            .sealer()
            .open(&flow.verifier_sealed, &verifier_context(&state_hash))
            .map_err(AppError::internal)?;
        let verifier = SecretString::from(
            String::from_utf8(verifier).map_err(|_| refused("a corrupt verifier".into()))?,
        );
        let tokens = clients
            .oauth()
            .exchange_code(&code, &verifier)
            .await
            .map_err(|error| refused(format!("exchanging the code: {error}")))?;
        let connection = self.store().connection(flow.connection_id).await?;
        self.store()
            .set_connection_tokens(
                connection.id,
                &seal_tokens(clients.sealer(), connection.id, &tokens),
            )
            .await?;
        // Another account may stand behind the connection now.
        self.look_ups.forget(connection.id);
        audit(self, flow.user_id, "authenticated", &connection, None).await?;
        Ok(connection.id)
    }
}

//! The two pages a person sees: OAuth consent and device activation.

use askama::Template;

#[derive(Template)]
#[template(path = "consent.html")]
pub(crate) struct ConsentPage<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) redirect_uri: &'a str,
    pub(crate) scope: &'a str,
    pub(crate) scopes: Vec<&'a str>,
    pub(crate) state: &'a str,
    pub(crate) code_challenge: &'a str,
    pub(crate) code_challenge_method: &'a str,
}

#[derive(Template)]
#[template(path = "device.html")]
pub(crate) struct DevicePage<'a> {
    pub(crate) user_code: &'a str,
    pub(crate) message: &'a str,
}

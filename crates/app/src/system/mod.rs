//! What admins see of the installation itself: the profile source and whether it opens, today's
//! Constant Contact request budget of each API key, and the build.

mod about;
mod profile_source;
mod quota;

pub use about::AboutView;
pub use profile_source::{
    ProfileSourceView, SourceColumnView, SourceOptionView, SourceProblemView,
};
pub use quota::QuotaView;

use crate::App;
use crate::caller::Admin;

/// The installation, for an admin.
pub struct SystemAdmin<'a> {
    app: &'a App,
}

impl<'a> SystemAdmin<'a> {
    pub(crate) fn new(app: &'a App, _admin: Admin<'a>) -> Self {
        Self { app }
    }
}

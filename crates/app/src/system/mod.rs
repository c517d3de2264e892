//! What admins see of the installation itself: the profile source and whether it opens, the
//! cluster segments are evaluated on, today's Constant Contact request budget of each API key,
//! and the build.

mod about;
mod cluster;
mod profile_source;
mod quota;

pub use about::AboutView;
pub(crate) use cluster::cluster_view;
pub use cluster::{ClusterView, ExecutorView};
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

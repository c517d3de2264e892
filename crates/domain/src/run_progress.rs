//! How far a running run has come: what its status page and the API show while it runs,
//! written to the store with each heartbeat.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct RunProgress {
    /// The phase under way (`planning`, `counting`, `sending`, `polling`, `removing`, …); empty
    /// before the first.
    pub phase: String,
    /// Members of the segments, once counted.
    pub members_total: u64,
    /// Members read and sorted so far.
    pub members_processed: u64,
    /// Contacts in imports sent so far.
    pub contacts_sent: u64,
    pub imports_sent: u64,
}

impl RunProgress {
    /// The phase, or "waiting" before the first.
    pub fn phase_or_waiting(&self) -> &str {
        if self.phase.is_empty() {
            "waiting"
        } else {
            &self.phase
        }
    }
}

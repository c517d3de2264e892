//! Faults the sandbox injects on request: answer with an error, handle late, answer late, or
//! drop the connection without answering.

use serde::{Deserialize, Serialize};

/// What to do to the matching requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultAction {
    /// Answer with this status and JSON body instead of handling the request.
    Respond {
        status: u16,
        #[serde(default)]
        body: serde_json::Value,
        /// Sent as `Retry-After` (seconds) when present.
        #[serde(default)]
        retry_after_seconds: Option<u64>,
    },
    /// Wait this long, then handle the request normally.
    Delay { milliseconds: u64 },
    /// Handle the request, then wait this long before answering: the work is done even when the
    /// caller gives up (or dies) waiting. API endpoints only.
    AnswerLate { milliseconds: u64 },
    /// Close the connection without any answer. The request is not handled.
    DropConnection,
    /// Answer 400 with Constant Contact's error body to requests whose body contains `text`
    /// (an email, say), as Constant Contact refuses a whole import for one bad record; other
    /// requests are handled and do not use the fault up. API endpoints only.
    RejectBodiesContaining { text: String, message: String },
}

/// A fault for the next `times` requests of one endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// An endpoint name such as `contacts_json_import`, `get_contact_list` or `token`, or `*`
    /// for every API endpoint.
    pub endpoint: String,
    pub times: u32,
    pub action: FaultAction,
}

impl Fault {
    pub fn respond(endpoint: &str, times: u32, status: u16, body: serde_json::Value) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            times,
            action: FaultAction::Respond {
                status,
                body,
                retry_after_seconds: None,
            },
        }
    }

    pub fn drop_connection(endpoint: &str, times: u32) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            times,
            action: FaultAction::DropConnection,
        }
    }

    pub fn answer_late(endpoint: &str, times: u32, milliseconds: u64) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            times,
            action: FaultAction::AnswerLate { milliseconds },
        }
    }

    pub fn reject_bodies_containing(endpoint: &str, times: u32, text: &str, message: &str) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            times,
            action: FaultAction::RejectBodiesContaining {
                text: text.to_owned(),
                message: message.to_owned(),
            },
        }
    }

    pub fn delay(endpoint: &str, times: u32, milliseconds: u64) -> Self {
        Self {
            endpoint: endpoint.to_owned(),
            times,
            action: FaultAction::Delay { milliseconds },
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.pending.push(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.pending.clear();
    }

    /// Takes one use of the first fault matching `endpoint` that does not depend on the body.
    pub(crate) fn take(&mut self, endpoint: &str) -> Option<FaultAction> {
        self.take_where(endpoint, |action| {
            !matches!(action, FaultAction::RejectBodiesContaining { .. })
        })
    }

    /// Takes one use of the first fault matching `endpoint` that rejects a body like `body`;
    /// returns its message.
    pub(crate) fn take_rejection(&mut self, endpoint: &str, body: &[u8]) -> Option<String> {
        let action = self.take_where(endpoint, |action| match action {
            FaultAction::RejectBodiesContaining { text, .. } => body
                .windows(text.len().max(1))
                .any(|window| window == text.as_bytes()),
            _ => false,
        })?;
        match action {
            FaultAction::RejectBodiesContaining { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Whether a fault for `endpoint` looks at request bodies.
    pub(crate) fn inspects_bodies(&self, endpoint: &str) -> bool {
        self.pending.iter().any(|fault| {
            (fault.endpoint == endpoint || fault.endpoint == "*")
                && matches!(fault.action, FaultAction::RejectBodiesContaining { .. })
        })
    }

    fn take_where(
        &mut self,
        endpoint: &str,
        wanted: impl Fn(&FaultAction) -> bool,
    ) -> Option<FaultAction> {
        let position = self.pending.iter().position(|fault| {
            (fault.endpoint == endpoint || fault.endpoint == "*") && wanted(&fault.action)
        })?;
        let fault = &mut self.pending[position];
        fault.times -= 1;
        let action = fault.action.clone();
        if fault.times == 0 {
            self.pending.remove(position);
        }
        Some(action)
    }
}

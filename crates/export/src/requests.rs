//! The requests a run needs, estimated in one place: a dry run says from it whether the run
//! fits in what is left today, and a run reserves it from the day's budget before it sends.

use constant_contact::api::{MAX_CONTACT_IDS_PER_REMOVAL, MAX_CONTACT_PAGE_SIZE};
use constant_contact::batch::MAX_CONTACTS_PER_IMPORT;
use serde::{Deserialize, Serialize};

use crate::sync::SyncMode;

/// What a run's requests depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunWork {
    pub mode: SyncMode,
    /// The list's member count as Constant Contact gives it: how many pages reading it takes.
    pub list_members: u64,
    /// Import requests: counted from the batches when the members were sorted, otherwise
    /// `imports_at_least` of the contacts to send.
    pub imports: u64,
    /// Contacts new to the list (mirror mode reads the list before its first one).
    pub adds: u64,
    /// Contacts mirror mode removes.
    pub removals: u64,
}

/// The requests of one run, by what they are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RequestEstimate {
    /// The list looked up before anything else (with the account's custom fields, when the
    /// mapping fills any, in the same phase).
    pub list_check: u64,
    /// Pages of the list's members: update-only mode reads them while planning, mirror mode
    /// before its first new contact or its removals.
    pub list_pages: u64,
    /// Whether the list pages are read while planning (update-only mode).
    pub list_read_while_planning: bool,
    pub imports: u64,
    /// At least one read of the imports' status once they are sent.
    pub import_polls: u64,
    /// Removal requests of up to 500 contacts, each followed by a read of its status.
    pub removals: u64,
}

impl RequestEstimate {
    pub fn of(work: &RunWork) -> Self {
        let list_pages = work
            .list_members
            .div_ceil(u64::from(MAX_CONTACT_PAGE_SIZE))
            .max(1);
        let list_pages = match work.mode {
            SyncMode::AddOnly => 0,
            SyncMode::UpdateOnly => list_pages,
            SyncMode::Mirror if work.adds > 0 || work.removals > 0 => list_pages,
            SyncMode::Mirror => 0,
        };
        let removal_requests = work.removals.div_ceil(MAX_CONTACT_IDS_PER_REMOVAL as u64);
        Self {
            list_check: 1,
            list_pages,
            list_read_while_planning: work.mode == SyncMode::UpdateOnly,
            imports: work.imports,
            import_polls: u64::from(work.imports > 0),
            removals: 2 * removal_requests,
        }
    }

    /// Every request of the run, from its first.
    pub fn total(&self) -> u64 {
        self.list_check + self.list_pages + self.imports + self.import_polls + self.removals
    }

    /// What the run still sends once planning is done (the list checked and, in update-only
    /// mode, read): what a run reserves then.
    pub fn still_to_send_after_planning(&self) -> u64 {
        let read_while_planning = if self.list_read_while_planning {
            self.list_pages
        } else {
            0
        };
        self.total() - self.list_check - read_while_planning
    }

    /// Whether the whole run fits in `left` requests (what a dry run, which spent the same
    /// planning requests, says of a run started after it).
    pub fn fits_in(&self, left: u64) -> bool {
        self.total() <= left
    }
}

/// The fewest imports `contacts` take: one per `MAX_CONTACTS_PER_IMPORT`; more when their bodies
/// reach the byte limit first, which only sorting the members finds out.
pub fn imports_at_least(contacts: u64) -> u64 {
    contacts.div_ceil(MAX_CONTACTS_PER_IMPORT as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn work(mode: SyncMode) -> RunWork {
        RunWork {
            mode,
            list_members: 1_200,
            imports: 3,
            adds: 10,
            removals: 1_001,
        }
    }

    #[test]
    fn each_mode_counts_the_requests_it_makes() {
        let add_only = RequestEstimate::of(&RunWork {
            removals: 0,
            ..work(SyncMode::AddOnly)
        });
        // The list check, three imports and one poll: add-only mode reads no list.
        assert_eq!(add_only.total(), 1 + 3 + 1);

        let mirror = RequestEstimate::of(&work(SyncMode::Mirror));
        // 1,200 members are three pages of 500; 1,001 removals are three requests and three
        // status reads.
        assert_eq!(mirror.list_pages, 3);
        assert_eq!(mirror.removals, 6);
        assert_eq!(mirror.total(), 1 + 3 + 3 + 1 + 6);
        assert_eq!(mirror.still_to_send_after_planning(), 3 + 3 + 1 + 6);

        let update_only = RequestEstimate::of(&RunWork {
            removals: 0,
            ..work(SyncMode::UpdateOnly)
        });
        // The list is read while planning: what is left to send excludes it.
        assert_eq!(update_only.total(), 1 + 3 + 3 + 1);
        assert_eq!(update_only.still_to_send_after_planning(), 3 + 1);
    }

    #[test]
    fn a_mirror_run_with_nothing_to_add_or_remove_reads_no_list() {
        let estimate = RequestEstimate::of(&RunWork {
            adds: 0,
            removals: 0,
            imports: 1,
            ..work(SyncMode::Mirror)
        });
        assert_eq!(estimate.list_pages, 0);
        assert_eq!(estimate.total(), 1 + 1 + 1);
    }

    #[test]
    fn nothing_to_send_needs_only_the_list_check() {
        let estimate = RequestEstimate::of(&RunWork {
            imports: 0,
            adds: 0,
            removals: 0,
            ..work(SyncMode::AddOnly)
        });
        assert_eq!(estimate.total(), 1);
        assert!(estimate.fits_in(1));
        assert!(!estimate.fits_in(0));
    }

    #[test]
    fn imports_are_at_least_one_per_forty_thousand_contacts() {
        assert_eq!(imports_at_least(0), 0);
        assert_eq!(imports_at_least(1), 1);
        assert_eq!(imports_at_least(40_000), 1);
        assert_eq!(imports_at_least(40_001), 2);
    }
}

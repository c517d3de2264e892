//! The member sorter on a thread of its own, so that building contacts (parsing emails,
//! writing their JSON) and sorting them against the ledger (a lookup per member in a map of a
//! million entries) run side by side on two cores. The builder hands over each batch of built
//! contacts whole; the sorter sends the imports it fills straight to the sender.

use constant_contact::Error as ClientError;
use tokio::sync::mpsc;

use crate::contacts::BuiltContact;
use crate::member_sorter::{MemberSorter, PlannedImport};

/// The contacts built from one batch of members, owned, in order.
#[derive(Default)]
pub(crate) struct BuiltBatch {
    emails: String,
    email_ends: Vec<usize>,
    keys: Vec<u64>,
    json: Vec<u8>,
    json_ends: Vec<usize>,
}

impl BuiltBatch {
    pub(crate) fn push(&mut self, contact: &BuiltContact<'_>) {
        self.emails.push_str(contact.email);
        self.email_ends.push(self.emails.len());
        self.keys.push(contact.key);
        self.json.extend_from_slice(contact.json);
        self.json_ends.push(self.json.len());
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    fn contacts(&self) -> impl Iterator<Item = BuiltContact<'_>> {
        let starts = |ends: &[usize]| {
            std::iter::once(0)
                .chain(ends.iter().copied())
                .zip(ends.iter().copied())
                .collect::<Vec<_>>()
        };
        starts(&self.email_ends)
            .into_iter()
            .zip(starts(&self.json_ends))
            .zip(&self.keys)
            .map(
                |(((email_start, email_end), (json_start, json_end)), key)| BuiltContact {
                    email: &self.emails[email_start..email_end],
                    key: *key,
                    json: &self.json[json_start..json_end],
                },
            )
    }
}

/// What the builder sends the sorter.
pub(crate) enum ToSorter {
    Batch(BuiltBatch),
    /// Every member was read: the last import, if any, is filled and sent. A channel that
    /// closes without it (the run was cancelled, the profiles failed) sends nothing more.
    End,
}

/// How the sorter's thread ended.
pub(crate) enum SorterEnd {
    /// Its work is done: every batch sorted, and the last import sent when the builder ended.
    Done,
    /// The sender stopped taking imports.
    SenderStopped,
    Failed(ClientError),
}

/// Starts the sorter's thread. Members left out (unsubscribed, not on the list) go back through
/// `skipped`; the thread hands the sorter back when it ends.
pub(crate) fn start(
    mut sorter: MemberSorter,
    mut batches: mpsc::Receiver<ToSorter>,
    imports: mpsc::Sender<PlannedImport>,
    skipped: mpsc::UnboundedSender<Vec<(String, String)>>,
) -> tokio::task::JoinHandle<(MemberSorter, SorterEnd)> {
    tokio::task::spawn_blocking(move || {
        while let Some(message) = batches.blocking_recv() {
            let batch = match message {
                ToSorter::Batch(batch) => batch,
                ToSorter::End => {
                    let end = match sorter.finish().map(|last| imports.blocking_send(last)) {
                        Some(Err(_)) => SorterEnd::SenderStopped,
                        _ => SorterEnd::Done,
                    };
                    return (sorter, end);
                }
            };
            for contact in batch.contacts() {
                match sorter.push(&contact) {
                    Ok(None) => {}
                    Ok(Some(import)) => {
                        if !hand_over(&imports, import) {
                            return (sorter, SorterEnd::SenderStopped);
                        }
                    }
                    Err(error) => return (sorter, SorterEnd::Failed(error)),
                }
            }
            let left_out = sorter.take_skipped();
            if !left_out.is_empty() {
                let _ = skipped.send(left_out);
            }
        }
        (sorter, SorterEnd::Done)
    })
}

/// Sends `import` to the sender, then waits until the sender has taken it: the next import is
/// built while this one is sent, never further ahead. The API takes one import at a time, so
/// a third one built early would only be held — an import's body is up to 4 MB. Returns whether
/// the sender is still taking imports.
fn hand_over(imports: &mpsc::Sender<PlannedImport>, import: PlannedImport) -> bool {
    if imports.blocking_send(import).is_err() {
        return false;
    }
    // The sorter is the only one sending: room in the channel means the import was taken.
    tokio::runtime::Handle::current()
        .block_on(imports.reserve())
        .is_ok()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use constant_contact::batch::MAX_CONTACTS_PER_IMPORT;
    use segsync_domain::SyncMode;
    use uuid::Uuid;

    use super::*;
    use crate::sync::Ledger;

    /// A batch of `contacts` small contacts, numbered from `first`.
    fn built_batch(first: usize, contacts: usize) -> BuiltBatch {
        let mut batch = BuiltBatch::default();
        for n in first..first + contacts {
            let email = format!("c{n}@example.com");
            let json = format!(r#"{{"email":"{email}"}}"#);
            batch.push(&BuiltContact {
                email: &email,
                key: n as u64,
                json: json.as_bytes(),
            });
        }
        batch
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_sorter_builds_the_next_import_only_once_the_sender_took_the_last() {
        let sorter = MemberSorter::new(
            Ledger::new(),
            SyncMode::AddOnly,
            false,
            None,
            Uuid::new_v4(),
        )
        .unwrap();
        let (batches_out, batches_in) = mpsc::channel(8);
        let (imports_out, mut imports_in) = mpsc::channel(1);
        let (skipped_out, _skipped_in) = mpsc::unbounded_channel();
        let sorting = start(sorter, batches_in, imports_out, skipped_out);
        // Each batch fills an import; the first contact of the next one sends it.
        for i in 0..4 {
            let batch = built_batch(i * MAX_CONTACTS_PER_IMPORT, MAX_CONTACTS_PER_IMPORT);
            batches_out.send(ToSorter::Batch(batch)).await.unwrap();
        }
        while imports_in.is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // Time for a sorter that runs ahead to take more batches.
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            batches_out.capacity(),
            8 - 2,
            "with the first import not taken, the sorter stops at the second batch's first contact"
        );
        let first = imports_in.recv().await.unwrap();
        assert_eq!(first.batch.n_contacts(), MAX_CONTACTS_PER_IMPORT);
        let second = imports_in.recv().await.unwrap();
        assert_eq!(second.members[0].key, MAX_CONTACTS_PER_IMPORT as u64);
        batches_out.send(ToSorter::End).await.unwrap();
        let mut rest = Vec::new();
        while let Some(import) = imports_in.recv().await {
            rest.push(import.batch.n_contacts());
        }
        assert_eq!(rest, [MAX_CONTACTS_PER_IMPORT; 2]);
        let (sorter, end) = sorting.await.unwrap();
        assert!(matches!(end, SorterEnd::Done));
        assert_eq!(sorter.counts.adds, 4 * MAX_CONTACTS_PER_IMPORT as u64);
    }

    #[test]
    fn a_built_batch_gives_back_its_contacts_in_order() {
        let mut batch = BuiltBatch::default();
        for (email, key, json) in [
            (
                "a@example.com",
                1,
                br#"{"email":"a@example.com"}"#.as_slice(),
            ),
            (
                "bee@example.com",
                2,
                br#"{"email":"bee@example.com","first_name":"B"}"#,
            ),
        ] {
            batch.push(&BuiltContact { email, key, json });
        }
        let back: Vec<(String, u64, Vec<u8>)> = batch
            .contacts()
            .map(|c| (c.email.to_owned(), c.key, c.json.to_vec()))
            .collect();
        assert_eq!(back[0].0, "a@example.com");
        assert_eq!(
            back[1],
            (
                "bee@example.com".to_owned(),
                2,
                br#"{"email":"bee@example.com","first_name":"B"}"#.to_vec()
            )
        );
        assert_eq!(back.len(), 2);
    }
}

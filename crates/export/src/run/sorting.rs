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
                        if imports.blocking_send(import).is_err() {
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

#[cfg(test)]
mod tests {
    use super::*;

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

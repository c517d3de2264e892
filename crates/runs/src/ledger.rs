//! An export's ledger for a list, as a run sees it: what the export sent before, loaded in one
//! pass when the run starts.

use segsync_export::{Ledger, Remembered};
use segsync_store::{LedgerOf, Store, StoreError};
use uuid::Uuid;

/// Loads the ledger of an export's list as the run `run_id` sees it, with every opt-out of the
/// export's connection marked unsubscribed.
pub async fn load_ledger(store: &Store, of: LedgerOf, run_id: Uuid) -> Result<Ledger, StoreError> {
    let size = store.ledger_size(of.export_id, of.list_id).await?;
    let mut ledger = Ledger::with_capacity(size as usize);
    store
        .load_ledger(of.export_id, of.list_id, run_id, |entry| {
            ledger.insert(
                entry.email_key,
                Remembered {
                    fingerprint: entry.fingerprint,
                    owned: entry.owned,
                    unsubscribed: entry.unsubscribed,
                    sent_by_this_run: entry.sent_by_this_run,
                },
            );
        })
        .await?;
    // The connection's opt-outs are never sent, whatever the ledger says of them.
    for key in store.opt_out_keys_of_export(of.export_id).await? {
        let remembered = ledger.get(key).unwrap_or(Remembered {
            fingerprint: segsync_export::RESEND,
            owned: false,
            unsubscribed: true,
            sent_by_this_run: false,
        });
        ledger.insert(
            key,
            Remembered {
                unsubscribed: true,
                ..remembered
            },
        );
    }
    Ok(ledger)
}

//! The members a run left out because of their email, as CSV (`email,reason`), read from the
//! store a page at a time and written a chunk at a time as the reader takes them: the chunks in
//! memory are a few whatever the number of members, and no database connection is held while
//! a slow reader takes them.

use segsync_domain::ErrorChain;
use segsync_store::Store;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Chunks waiting for the reader at most.
const CHUNKS_AHEAD: usize = 4;

/// Skipped members read from the store at once.
const PAGE: u32 = 2_000;

/// Starts writing the skipped members of `run_id` as CSV chunks; the receiver gets them in
/// order, then the channel closes. A failure to read them ends the stream with an error (and
/// is logged with its causes).
pub(super) fn skipped_csv(
    store: Store,
    run_id: Uuid,
) -> mpsc::Receiver<Result<Vec<u8>, std::io::Error>> {
    let (chunks, body) = mpsc::channel(CHUNKS_AHEAD);
    tokio::spawn(async move {
        let failed = |error: &dyn std::error::Error| {
            tracing::error!(run = %run_id, error = %ErrorChain(error), "The skipped members could not be read.");
            Err(std::io::Error::other(
                "the skipped members could not be read",
            ))
        };
        let mut csv = SkippedCsv::new();
        let mut offset = 0;
        loop {
            let page = match store.run_skips_page(run_id, offset, PAGE).await {
                Ok(page) => page,
                Err(error) => {
                    let _ = chunks.send(failed(&error)).await;
                    return;
                }
            };
            let last_page = page.len() < PAGE as usize;
            offset += page.len() as u64;
            for (email, reason) in page {
                let chunk = match csv.row(&email, &reason) {
                    Ok(chunk) => chunk,
                    Err(error) => Some(failed(&error)),
                };
                if let Some(chunk) = chunk {
                    let stop = chunk.is_err();
                    if chunks.send(chunk).await.is_err() || stop {
                        return; // The reader went away, or the writing failed.
                    }
                }
            }
            if last_page {
                break;
            }
        }
        let _ = chunks.send(csv.finish()).await;
    });
    body
}

/// The skipped-members CSV, written in chunks. A cell that a spreadsheet would read as a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) is written with a `'` before
/// it, so opening the file never runs anything an email address carried.
struct SkippedCsv {
    writer: csv::Writer<Vec<u8>>,
}

impl SkippedCsv {
    /// Bytes gathered before a chunk goes out.
    const CHUNK: usize = 64 * 1024;

    fn new() -> Self {
        let mut writer = csv::Writer::from_writer(Vec::with_capacity(Self::CHUNK));
        writer
            .write_record(["email", "reason"])
            .expect("writing to memory succeeds");
        Self { writer }
    }

    /// Adds a row; a chunk when one is full.
    fn row(
        &mut self,
        email: &str,
        reason: &str,
    ) -> Result<Option<Result<Vec<u8>, std::io::Error>>, csv::Error> {
        let (email, reason) = (spreadsheet_safe(email), spreadsheet_safe(reason));
        self.writer
            .write_record([email.as_ref(), reason.as_ref()])?;
        self.writer.flush()?;
        if self.writer.get_ref().len() < Self::CHUNK {
            return Ok(None);
        }
        let full = std::mem::replace(
            &mut self.writer,
            csv::Writer::from_writer(Vec::with_capacity(Self::CHUNK)),
        );
        Ok(Some(full.into_inner().map_err(|error| error.into_error())))
    }

    fn finish(self) -> Result<Vec<u8>, std::io::Error> {
        self.writer.into_inner().map_err(|error| error.into_error())
    }
}

/// `cell`, with a `'` first when a spreadsheet would take it for a formula.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised_and_rows_go_out_in_chunks() {
        let mut csv = SkippedCsv::new();
        let mut out = Vec::new();
        for (email, reason) in [
            ("=HYPERLINK(\"http://evil\")", "malformed"),
            ("+1-555@x", "malformed"),
            ("-2@x", "malformed"),
            ("@SUM(A1)", "malformed"),
            ("\tx@y", "malformed"),
            ("ok@example.com", "=bad reason"),
        ] {
            if let Some(chunk) = csv.row(email, reason).unwrap() {
                out.extend(chunk.unwrap());
            }
        }
        out.extend(csv.finish().unwrap());
        let text = String::from_utf8(out).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let cells: Vec<(String, String)> = reader
            .records()
            .map(|record| {
                let record = record.unwrap();
                (record[0].to_owned(), record[1].to_owned())
            })
            .collect();
        assert_eq!(cells[0].0, "'=HYPERLINK(\"http://evil\")");
        assert_eq!(cells[1].0, "'+1-555@x");
        assert_eq!(cells[2].0, "'-2@x");
        assert_eq!(cells[3].0, "'@SUM(A1)");
        assert_eq!(cells[4].0, "'\tx@y");
        assert_eq!(
            cells[5],
            ("ok@example.com".to_owned(), "'=bad reason".to_owned())
        );

        let mut csv = SkippedCsv::new();
        let chunks = (0..10_000)
            .filter_map(|n| {
                csv.row(&format!("member-{n}@example"), "malformed")
                    .unwrap()
            })
            .count();
        assert!(chunks >= 4, "rows leave in chunks as they come: {chunks}");
    }
}

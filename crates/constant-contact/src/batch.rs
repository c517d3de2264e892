//! Splitting contacts into bulk imports that stay within Constant Contact's limits: at most
//! 40,000 contacts and at most 4,000,000 bytes of JSON per request, 1 to 50 lists.
//!
//! Contacts are serialised once, as they arrive, into the body of the batch they belong to, so
//! the byte count is exact and no batch ever holds contacts as structs.

use bytes::Bytes;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::wire::imports::ImportContact;

/// Contacts one JSON import may carry.
pub const MAX_CONTACTS_PER_IMPORT: usize = 40_000;
/// Bytes one JSON import may carry. Constant Contact says "less than 4 MB" and silently drops
/// whatever lies beyond; 4 MB may mean 4,194,304 or 4,000,000 bytes, so we stay at or under
/// the smaller.
pub const MAX_IMPORT_BYTES: usize = 4_000_000;
/// Lists one import may add its contacts to.
pub const MAX_LISTS_PER_IMPORT: usize = 50;

/// One import request body, complete and within the limits.
#[derive(Debug, Clone)]
pub struct ImportBatch {
    body: Bytes,
    n_contacts: usize,
}

impl ImportBatch {
    /// The JSON body: `{"import_data":[…],"list_ids":[…]}`.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    pub fn n_contacts(&self) -> usize {
        self.n_contacts
    }

    /// Two imports to the same lists, of the first and the second half of this one's contacts
    /// (the first half takes `n_contacts / 2`), each contact's JSON unchanged: an import Constant
    /// Contact refuses is split until the contacts it refuses stand alone.
    pub fn split_in_halves(&self) -> Result<(ImportBatch, ImportBatch)> {
        #[derive(serde::Deserialize)]
        struct Body<'a> {
            #[serde(borrow)]
            import_data: Vec<&'a serde_json::value::RawValue>,
            list_ids: Vec<Uuid>,
        }
        let body: Body<'_> = serde_json::from_slice(&self.body)
            .map_err(|error| Error::InvalidRequest(format!("reading an import back: {error}")))?;
        if body.import_data.len() < 2 {
            return Err(Error::InvalidRequest(
                "an import of fewer than two contacts cannot be split".to_owned(),
            ));
        }
        let (first, second) = body.import_data.split_at(body.import_data.len() / 2);
        let half = |contacts: &[&serde_json::value::RawValue]| -> Result<ImportBatch> {
            let mut batcher = ImportBatcher::new(&body.list_ids)?;
            for contact in contacts {
                if batcher
                    .push_json("in a split import", contact.get().as_bytes())?
                    .is_some()
                {
                    return Err(Error::InvalidRequest(
                        "half an import did not fit in one import".to_owned(),
                    ));
                }
            }
            Ok(batcher.finish().expect("a half holds contacts"))
        };
        Ok((half(first)?, half(second)?))
    }
}

/// Fills batches one contact at a time and hands each over as soon as it is full.
#[derive(Debug)]
pub struct ImportBatcher {
    max_contacts: usize,
    max_bytes: usize,
    /// `],"list_ids":[…]}`, the same for every batch.
    tail: Vec<u8>,
    body: Vec<u8>,
    n_contacts: usize,
}

const HEAD: &[u8] = br#"{"import_data":["#;

impl ImportBatcher {
    pub fn new(list_ids: &[Uuid]) -> Result<Self> {
        Self::with_limits(list_ids, MAX_CONTACTS_PER_IMPORT, MAX_IMPORT_BYTES)
    }

    /// Limits below Constant Contact's, never above them.
    pub fn with_limits(list_ids: &[Uuid], max_contacts: usize, max_bytes: usize) -> Result<Self> {
        if list_ids.is_empty() || list_ids.len() > MAX_LISTS_PER_IMPORT {
            return Err(Error::InvalidRequest(format!(
                "an import adds contacts to 1 to {MAX_LISTS_PER_IMPORT} lists, not {}",
                list_ids.len()
            )));
        }
        let mut tail = br#"],"list_ids":"#.to_vec();
        serde_json::to_writer(&mut tail, list_ids).expect("uuids serialise");
        tail.push(b'}');
        Ok(Self {
            max_contacts: max_contacts.clamp(1, MAX_CONTACTS_PER_IMPORT),
            max_bytes: max_bytes.min(MAX_IMPORT_BYTES),
            tail,
            body: HEAD.to_vec(),
            n_contacts: 0,
        })
    }

    /// Adds a contact. Returns the previous batch when this contact did not fit in it.
    pub fn push(&mut self, contact: &ImportContact) -> Result<Option<ImportBatch>> {
        let json = serde_json::to_vec(contact).expect("an import contact serialises");
        self.push_json(contact.email().unwrap_or("without an email"), &json)
    }

    /// Adds a contact already serialised as `json` (an [`ImportContact`]'s JSON), for callers
    /// that need those bytes themselves. `email` names the contact in an error.
    pub fn push_json(&mut self, email: &str, json: &[u8]) -> Result<Option<ImportBatch>> {
        let alone = HEAD.len() + json.len() + self.tail.len();
        if alone > self.max_bytes {
            return Err(Error::InvalidRequest(format!(
                "the contact {email} alone takes {alone} bytes, over the {} bytes of an import",
                self.max_bytes
            )));
        }
        let separator = usize::from(self.n_contacts > 0);
        let would_be = self.body.len() + separator + json.len() + self.tail.len();
        let full = self.n_contacts == self.max_contacts || would_be > self.max_bytes;
        let finished = if full { self.take() } else { None };
        if self.n_contacts > 0 {
            self.body.push(b',');
        }
        self.body.extend_from_slice(json);
        self.n_contacts += 1;
        Ok(finished)
    }

    /// The last, partly filled batch, if it holds any contact.
    pub fn finish(mut self) -> Option<ImportBatch> {
        self.take()
    }

    fn take(&mut self) -> Option<ImportBatch> {
        if self.n_contacts == 0 {
            return None;
        }
        let mut body = std::mem::replace(&mut self.body, HEAD.to_vec());
        body.extend_from_slice(&self.tail);
        let n_contacts = std::mem::take(&mut self.n_contacts);
        Some(ImportBatch {
            body: body.into(),
            n_contacts,
        })
    }
}

/// Splits contacts into batches (a convenience over [`ImportBatcher`]).
pub fn split_into_batches<'a>(
    contacts: impl IntoIterator<Item = &'a ImportContact>,
    list_ids: &[Uuid],
) -> Result<Vec<ImportBatch>> {
    let mut batcher = ImportBatcher::new(list_ids)?;
    let mut batches = Vec::new();
    for contact in contacts {
        batches.extend(batcher.push(contact)?);
    }
    batches.extend(batcher.finish());
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn contact(i: usize, padding: usize) -> ImportContact {
        let mut contact = ImportContact::with_email(format!("person{i}@example.com"));
        if padding > 0 {
            contact.set("street", "x".repeat(padding));
        }
        contact
    }

    fn parse(batch: &ImportBatch) -> Value {
        serde_json::from_slice(batch.body()).expect("a batch body is valid JSON")
    }

    #[test]
    fn splits_by_count() {
        let list = Uuid::new_v4();
        let contacts: Vec<_> = (0..100_001).map(|i| contact(i, 0)).collect();
        let batches = split_into_batches(&contacts, &[list]).unwrap();
        let counts: Vec<_> = batches.iter().map(ImportBatch::n_contacts).collect();
        assert_eq!(counts, [40_000, 40_000, 20_001]);
        for batch in &batches {
            assert!(batch.body().len() <= MAX_IMPORT_BYTES);
            let body = parse(batch);
            assert_eq!(
                body["import_data"].as_array().unwrap().len(),
                batch.n_contacts()
            );
            assert_eq!(body["list_ids"][0], list.to_string());
        }
    }

    #[test]
    fn splits_by_bytes_before_the_count_is_reached() {
        // 250-byte streets make each contact about 300 bytes: 40,000 of them would be 12 MB.
        let contacts: Vec<_> = (0..20_000).map(|i| contact(i, 250)).collect();
        let batches = split_into_batches(&contacts, &[Uuid::new_v4()]).unwrap();
        assert!(
            batches.len() >= 2,
            "the byte limit must split 20,000 contacts"
        );
        assert!(
            batches
                .iter()
                .all(|batch| batch.n_contacts() < MAX_CONTACTS_PER_IMPORT)
        );
        let mut emails = Vec::new();
        for batch in &batches {
            assert!(
                batch.body().len() <= MAX_IMPORT_BYTES,
                "{} bytes",
                batch.body().len()
            );
            for contact in parse(batch)["import_data"].as_array().unwrap() {
                emails.push(contact["email"].as_str().unwrap().to_owned());
            }
        }
        // Every batch but the last is filled close to the limit.
        let first = batches[0].body().len();
        assert!(first > MAX_IMPORT_BYTES - 400, "{first} bytes");
        // Nothing lost, nothing repeated, order kept.
        let expected: Vec<_> = (0..20_000)
            .map(|i| format!("person{i}@example.com"))
            .collect();
        assert_eq!(emails, expected);
    }

    #[test]
    fn exact_fit_is_allowed() {
        let list = Uuid::new_v4();
        let one = split_into_batches([&contact(0, 0)], &[list]).unwrap();
        let exact = one[0].body().len();
        let mut batcher = ImportBatcher::with_limits(&[list], 10, exact).unwrap();
        assert!(batcher.push(&contact(0, 0)).unwrap().is_none());
        let full = batcher
            .push(&contact(1, 0))
            .unwrap()
            .expect("the second contact does not fit");
        assert_eq!(full.body().len(), exact);
        assert_eq!(batcher.finish().unwrap().n_contacts(), 1);
    }

    #[test]
    fn refuses_more_than_fifty_lists_and_oversized_contacts() {
        let lists: Vec<_> = (0..51).map(|_| Uuid::new_v4()).collect();
        assert!(ImportBatcher::new(&lists).is_err());
        assert!(ImportBatcher::new(&[]).is_err());
        let mut batcher = ImportBatcher::with_limits(&lists[..1], 10, 200).unwrap();
        let error = batcher.push(&contact(7, 500)).unwrap_err();
        assert!(error.to_string().contains("person7@example.com"), "{error}");
    }

    #[test]
    fn an_import_splits_into_halves_with_the_same_contacts_and_lists() {
        let lists = [Uuid::from_u128(1), Uuid::from_u128(2)];
        let mut batcher = ImportBatcher::new(&lists).unwrap();
        let contacts: Vec<String> = (0..5)
            .map(|n| format!(r#"{{"email":"m{n}@example.com"}}"#))
            .collect();
        for contact in &contacts {
            assert!(
                batcher
                    .push_json("m", contact.as_bytes())
                    .unwrap()
                    .is_none()
            );
        }
        let whole = batcher.finish().unwrap();
        let (first, second) = whole.split_in_halves().unwrap();
        assert_eq!((first.n_contacts(), second.n_contacts()), (2, 3));
        let read = |batch: &ImportBatch| -> serde_json::Value {
            serde_json::from_slice(batch.body()).unwrap()
        };
        let (whole, first, second) = (read(&whole), read(&first), read(&second));
        assert_eq!(first["list_ids"], whole["list_ids"]);
        assert_eq!(second["list_ids"], whole["list_ids"]);
        let mut rejoined = first["import_data"].as_array().unwrap().clone();
        rejoined.extend(second["import_data"].as_array().unwrap().iter().cloned());
        assert_eq!(&rejoined, whole["import_data"].as_array().unwrap());
    }
}

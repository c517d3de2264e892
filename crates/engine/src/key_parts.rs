//! `key_in_part(key, part, parts)`: whether a key falls in part `part` of `parts`, by a hash of
//! its value. A count over related tables too large to join in one pass is made in several,
//! each over the profiles and the related rows whose keys fall in one part: a profile's
//! measures come only from rows with its key, so each pass counts its profiles completely and
//! the passes' counts add up. A null key falls in part 0, so that every profile is counted once.
//!
//! Both sides hash the key as the same type (the related key is cast to the profiles' key
//! first). The hash's seed differs from the one DataFusion partitions joins with, so a pass's
//! keys still spread over every partition of its join.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, BooleanArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::hash_utils::{RandomState, create_hashes};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, lit,
};

/// The function's name, in plans.
const KEY_IN_PART: &str = "key_in_part";

/// The seed of the keys' hash ("segsync" in ASCII), apart from DataFusion's own.
const SEED: u64 = 0x0073_6567_7379_6e63;

/// One of the parts the keys of a count are split into: `part` of `parts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyPart {
    pub(crate) part: u32,
    pub(crate) parts: u32,
}

impl KeyPart {
    /// Every part of `parts`, in order.
    pub(crate) fn all(parts: u32) -> impl Iterator<Item = KeyPart> {
        (0..parts).map(move |part| KeyPart { part, parts })
    }

    /// How many parts the keys are split into: one without a part.
    pub(crate) fn parts_of(key_part: Option<KeyPart>) -> u32 {
        key_part.map_or(1, |part| part.parts)
    }

    /// Whether `key` falls in this part.
    pub(crate) fn holds(self, key: Expr) -> Expr {
        the_function().call(vec![key, lit(self.part), lit(self.parts)])
    }
}

/// The one instance of the function.
fn the_function() -> Arc<ScalarUDF> {
    static FUNCTION: LazyLock<Arc<ScalarUDF>> =
        LazyLock::new(|| Arc::new(ScalarUDF::new_from_impl(KeyInPart::new())));
    Arc::clone(&FUNCTION)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct KeyInPart {
    signature: Signature,
}

impl KeyInPart {
    fn new() -> Self {
        Self {
            signature: Signature::any(3, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for KeyInPart {
    fn name(&self) -> &str {
        KEY_IN_PART
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types[1] != DataType::UInt32 || arg_types[2] != DataType::UInt32 {
            return plan_err!("{KEY_IN_PART} takes a key, a part and the parts, as UInt32");
        }
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [key, part, parts] = args.args.as_slice() else {
            return exec_err!("{KEY_IN_PART} takes a key, a part and the parts");
        };
        let (
            ColumnarValue::Scalar(ScalarValue::UInt32(Some(part))),
            ColumnarValue::Scalar(ScalarValue::UInt32(Some(parts))),
        ) = (part, parts)
        else {
            return exec_err!("{KEY_IN_PART} takes the part and the parts as literals");
        };
        if *parts == 0 || part >= parts {
            return exec_err!("{KEY_IN_PART}: part {part} of {parts}");
        }
        let keys = key.to_array(args.number_rows)?;
        let mut hashes = vec![0; keys.len()];
        create_hashes([&keys], &RandomState::with_seed(SEED), &mut hashes)?;
        let in_part = BooleanBuffer::collect_bool(keys.len(), |row| {
            let of = if keys.is_null(row) {
                0
            } else {
                part_of(hashes[row], *parts)
            };
            of == *part
        });
        let answers = BooleanArray::new(in_part, None);
        Ok(match key {
            ColumnarValue::Scalar(_) => {
                ColumnarValue::Scalar(ScalarValue::try_from_array(&answers, 0)?)
            }
            ColumnarValue::Array(_) => ColumnarValue::Array(Arc::new(answers)),
        })
    }
}

/// The part a hash falls in: its high half, spread over the parts (the low bits are the ones
/// hash tables use).
fn part_of(hash: u64, parts: u32) -> u32 {
    (((hash >> 32) * u64::from(parts)) >> 32) as u32
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::logical_expr::col;
    use datafusion::prelude::SessionContext;

    use super::*;

    /// Every key in exactly one part, nulls in part 0, and the parts of about equal size.
    async fn parts_of(keys: Arc<dyn Array>, parts: u32) -> Vec<Vec<bool>> {
        let schema = Arc::new(Schema::new(vec![Field::new(
            "key",
            keys.data_type().clone(),
            true,
        )]));
        let batch = RecordBatch::try_new(schema, vec![keys]).unwrap();
        let ctx = SessionContext::new();
        let mut in_parts = Vec::new();
        for key_part in KeyPart::all(parts) {
            let frame = ctx
                .read_batch(batch.clone())
                .unwrap()
                .select(vec![key_part.holds(col("key")).alias("in_part")])
                .unwrap();
            let column: Vec<bool> = frame
                .collect()
                .await
                .unwrap()
                .iter()
                .flat_map(|batch| {
                    let answers = batch.column(0).as_any().downcast_ref::<BooleanArray>();
                    answers.unwrap().iter().map(|answer| answer.unwrap())
                })
                .collect();
            in_parts.push(column);
        }
        in_parts
    }

    #[tokio::test]
    async fn every_key_falls_in_exactly_one_part_and_the_parts_are_even() {
        let mut keys: Vec<Option<i64>> = (0..30_000).map(Some).collect();
        keys.push(None);
        let in_parts = parts_of(Arc::new(Int64Array::from(keys.clone())), 3).await;
        for row in 0..keys.len() {
            let holding = (0..3).filter(|&part| in_parts[part][row]).count();
            assert_eq!(holding, 1, "key {:?} is in {holding} parts", keys[row]);
        }
        assert!(in_parts[0][keys.len() - 1], "a null key is in part 0");
        for (part, column) in in_parts.iter().enumerate() {
            let size = column.iter().filter(|&&held| held).count();
            assert!(
                (9_000..11_000).contains(&size),
                "part {part} holds {size} of 30,001 keys"
            );
        }
    }

    #[tokio::test]
    async fn a_key_falls_in_the_same_part_in_every_batch() {
        let keys = StringArray::from(vec![Some("C-001"), Some("C-002"), None, Some("C-001")]);
        let in_parts = parts_of(Arc::new(keys), 4).await;
        for column in &in_parts {
            assert_eq!(column[0], column[3], "the same key, two parts");
        }
        let first = StringArray::from(vec![Some("C-001")]);
        let alone = parts_of(Arc::new(first), 4).await;
        for (part, column) in alone.iter().enumerate() {
            assert_eq!(column[0], in_parts[part][0], "C-001 alone, another part");
        }
    }
}

//! `equals_ignoring_case(text, 'a', 'b', …)`: whether `lower(text)` is one of `lower('a')`,
//! `lower('b')`, … — exactly what `lower(text) IN (…)` answers, null for a null text, but without
//! writing a lower-cased copy of every value first. An ASCII value is compared byte by byte
//! ignoring ASCII case; any other is lower-cased as `lower()` does (`str::to_lowercase`, final
//! sigma included), so no Unicode case folding creeps in (`ſ` stays apart from `s`).
//!
//! The cluster's codecs know the function by its name, so executors run it too.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, StringArrayType};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The function's name, in plans and in the cluster's codecs.
pub(crate) const EQUALS_IGNORING_CASE: &str = "equals_ignoring_case";

/// Whether `text`, lower-cased, equals one of `literals` lower-cased.
pub(crate) fn equals_ignoring_case(text: Expr, literals: Vec<Expr>) -> Expr {
    let mut args = Vec::with_capacity(literals.len() + 1);
    args.push(text);
    args.extend(literals);
    the_function().call(args)
}

/// The one instance of the function.
pub(crate) fn the_function() -> Arc<ScalarUDF> {
    static FUNCTION: LazyLock<Arc<ScalarUDF>> =
        LazyLock::new(|| Arc::new(ScalarUDF::new_from_impl(EqualsIgnoringCase::new())));
    Arc::clone(&FUNCTION)
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct EqualsIgnoringCase {
    signature: Signature,
}

impl EqualsIgnoringCase {
    fn new() -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for EqualsIgnoringCase {
    fn name(&self) -> &str {
        EQUALS_IGNORING_CASE
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    /// The text keeps its string type (a dictionary of strings is compared by its values); the
    /// literals are plain strings.
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let Some((text, literals)) = arg_types.split_first() else {
            return plan_err!("{EQUALS_IGNORING_CASE} needs a text and at least one literal");
        };
        if literals.is_empty() {
            return plan_err!("{EQUALS_IGNORING_CASE} needs at least one literal");
        }
        let text = match text {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => text.clone(),
            DataType::Dictionary(_, values) if is_string(values) => values.as_ref().clone(),
            DataType::Null => DataType::Utf8,
            other => return plan_err!("{EQUALS_IGNORING_CASE} compares text, not {other}"),
        };
        let mut coerced = vec![text];
        for literal in literals {
            if !is_string(literal) && *literal != DataType::Null {
                return plan_err!("{EQUALS_IGNORING_CASE} compares with text, not {literal}");
            }
            coerced.push(DataType::Utf8);
        }
        Ok(coerced)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some((text, literals)) = args.args.split_first() else {
            return exec_err!("{EQUALS_IGNORING_CASE} needs a text");
        };
        let wanted = Wanted::lowering(literals)?;
        match text {
            ColumnarValue::Scalar(value) => {
                let Some(value) = value.try_as_str() else {
                    return exec_err!("{EQUALS_IGNORING_CASE} compares text, not {value:?}");
                };
                let mut scratch = String::new();
                let answer = value.map(|value| wanted.matches(value, &mut scratch));
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(answer)))
            }
            ColumnarValue::Array(array) => {
                let answers = match array.data_type() {
                    DataType::Utf8 => compare(&array.as_string::<i32>(), &wanted),
                    DataType::LargeUtf8 => compare(&array.as_string::<i64>(), &wanted),
                    DataType::Utf8View => compare(&array.as_string_view(), &wanted),
                    other => return exec_err!("{EQUALS_IGNORING_CASE} compares text, not {other}"),
                };
                Ok(ColumnarValue::Array(Arc::new(answers)))
            }
        }
    }
}

fn is_string(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Each row's answer; a null text answers null.
fn compare<'a>(texts: &impl StringArrayType<'a>, wanted: &Wanted) -> BooleanArray {
    let mut scratch = String::new();
    let answers = BooleanBuffer::collect_bool(texts.len(), |row| {
        // A null row's slot holds some valid string; its answer is masked by the nulls below.
        wanted.matches(texts.value(row), &mut scratch)
    });
    BooleanArray::new(answers, texts.nulls().cloned())
}

/// The lower-cased literals, looked through one by one when few and hashed when many.
enum Wanted {
    Few(Vec<String>),
    Many(HashSet<String>),
}

/// Up to this many literals are compared one by one, where a length differing rejects most
/// values without reading them.
const COMPARED_ONE_BY_ONE: usize = 8;

impl Wanted {
    fn lowering(literals: &[ColumnarValue]) -> Result<Self> {
        let mut lowered = Vec::with_capacity(literals.len());
        for literal in literals {
            let ColumnarValue::Scalar(scalar) = literal else {
                return exec_err!("{EQUALS_IGNORING_CASE} compares with literals, not columns");
            };
            match scalar.try_as_str() {
                Some(Some(text)) => lowered.push(text.to_lowercase()),
                _ => return exec_err!("{EQUALS_IGNORING_CASE} compares with text, not {scalar:?}"),
            }
        }
        Ok(if lowered.len() <= COMPARED_ONE_BY_ONE {
            Self::Few(lowered)
        } else {
            Self::Many(lowered.into_iter().collect())
        })
    }

    /// Whether `value`, lower-cased as `lower()` does, is wanted; `scratch` holds a value's
    /// lower-cased copy when one is needed.
    fn matches(&self, value: &str, scratch: &mut String) -> bool {
        match self {
            // The wanted texts are lower-cased, so they hold no ASCII capital: an ASCII value
            // equals one of them lower-cased exactly when the two are equal ignoring ASCII case.
            Self::Few(wanted) if value.is_ascii() => wanted
                .iter()
                .any(|wanted| wanted.len() == value.len() && wanted.eq_ignore_ascii_case(value)),
            Self::Few(wanted) => {
                let lowered = value.to_lowercase();
                wanted.contains(&lowered)
            }
            Self::Many(wanted) => {
                scratch.clear();
                if value.is_ascii() {
                    scratch.push_str(value);
                    scratch.make_ascii_lowercase();
                } else {
                    scratch.push_str(&value.to_lowercase());
                }
                wanted.contains(scratch.as_str())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered_equal(value: &str, literals: &[&str]) -> bool {
        let lowered = value.to_lowercase();
        literals
            .iter()
            .any(|literal| literal.to_lowercase() == lowered)
    }

    fn wanted(literals: &[&str]) -> Wanted {
        let scalars: Vec<_> = literals
            .iter()
            .map(|literal| ColumnarValue::Scalar(ScalarValue::Utf8(Some((*literal).into()))))
            .collect();
        Wanted::lowering(&scalars).unwrap()
    }

    #[test]
    fn answers_what_lower_then_equals_answers() {
        let values = [
            "Ada",
            "ADA",
            "ada",
            "Adam",
            "",
            "ΟΔΥΣΣΕΥΣ",
            "οδυσσευς",
            "οδυσσευσ",
            "\u{212A}elvin",
            "Kelvin",
            "ſam",
            "Sam",
            "İstanbul",
            "i\u{307}stanbul",
            "istanbul",
            "STRASSE",
            "straße",
            "ÀB",
            "àb",
        ];
        let few = ["ada", "Οδυσσευς", "KELVIN", "sam", "İSTANBUL", "Straße"];
        let many: Vec<&str> = values.iter().copied().step_by(2).collect();
        for literals in [&few[..], &many[..], &["àB"][..]] {
            let wanted = wanted(literals);
            assert_eq!(
                matches!(wanted, Wanted::Many(_)),
                literals.len() > COMPARED_ONE_BY_ONE
            );
            for value in values {
                assert_eq!(
                    wanted.matches(value, &mut String::new()),
                    lowered_equal(value, literals),
                    "{value:?} against {literals:?}"
                );
            }
        }
    }
}

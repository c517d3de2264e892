//! Rules in words, for people reading a preview: `sum of amount over orders where status
//! equals "paid", dated within the last 365 days`.

use std::fmt::Write;

use super::{Condition, Period, PeriodUnit, RelatedCondition, Rule, Test};

/// What a related condition measures, in words: the aggregate, the rows it takes and when.
pub fn describe_measure(condition: &RelatedCondition) -> String {
    let mut text = match (&condition.column, condition.aggregate) {
        (None, _) => format!("number of {}", condition.table),
        (Some(column), aggregate) => {
            format!("{} of {column} over {}", aggregate.name(), condition.table)
        }
    };
    if let Some(rows) = &condition.rows {
        text.push_str(" where ");
        write_rule(&mut text, rows);
    }
    if let Some(window) = &condition.window {
        text.push_str(", dated ");
        write_test(&mut text, window);
    }
    text
}

fn write_rule(text: &mut String, rule: &Rule) {
    let joined = |text: &mut String, rules: &[Rule], word: &str| {
        text.push('(');
        for (i, rule) in rules.iter().enumerate() {
            if i > 0 {
                let _ = write!(text, " {word} ");
            }
            write_rule(text, rule);
        }
        text.push(')');
    };
    match rule {
        Rule::All(rules) => joined(text, rules, "and"),
        Rule::Any(rules) => joined(text, rules, "or"),
        Rule::Not(rule) => {
            text.push_str("not ");
            write_rule(text, rule);
        }
        Rule::Condition(Condition {
            attribute, test, ..
        }) => {
            let _ = write!(text, "{attribute} ");
            write_test(text, test);
        }
        Rule::Related(related) => text.push_str(&describe_measure(related)),
        Rule::Segment(name) => {
            let _ = write!(text, "in segment {name:?}");
        }
        Rule::Union(names) | Rule::Intersect(names) | Rule::Except(names) => {
            let _ = write!(text, "segments {names:?}");
        }
    }
}

fn write_test(text: &mut String, test: &Test) {
    let words = test.operator().replace('_', " ");
    let _ = match test {
        Test::Equals(value)
        | Test::NotEquals(value)
        | Test::LessThan(value)
        | Test::LessOrEqual(value)
        | Test::GreaterThan(value)
        | Test::GreaterOrEqual(value)
        | Test::Before(value)
        | Test::After(value) => write!(text, "{words} {value}"),
        Test::In(values) | Test::NotIn(values) => {
            let values: Vec<String> = values.iter().map(ToString::to_string).collect();
            write!(text, "{words} {}", values.join(", "))
        }
        Test::Contains(part) | Test::StartsWith(part) | Test::EndsWith(part) => {
            write!(text, "{words} {part:?}")
        }
        Test::Between(low, high) => write!(text, "between {low} and {high}"),
        Test::WithinLast(period) => write!(text, "within the last {}", period_words(*period)),
        Test::MoreThanAgo(period) => write!(text, "more than {} ago", period_words(*period)),
        Test::IsEmpty
        | Test::IsNotEmpty
        | Test::IsTrue
        | Test::IsFalse
        | Test::IsNull
        | Test::IsNotNull => write!(text, "{words}"),
    };
}

fn period_words(period: Period) -> String {
    let unit = match period.unit {
        PeriodUnit::Days => "day",
        PeriodUnit::Weeks => "week",
        PeriodUnit::Months => "month",
    };
    let plural = if period.amount == 1 { "" } else { "s" };
    format!("{} {unit}{plural}", period.amount)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segment::{SegmentFormat, parse_segments};

    fn measure_of(yaml: &str) -> RelatedCondition {
        let segment = parse_segments(&format!("name: s\nrule: {yaml}"), SegmentFormat::Yaml, "t")
            .unwrap()
            .remove(0);
        match segment.rule {
            Rule::Related(related) => related,
            other => panic!("not a related condition: {other:?}"),
        }
    }

    #[test]
    fn a_measure_reads_as_its_aggregate_rows_and_window() {
        let paid = measure_of(
            "{ measure: sum, of: amount, over: orders, where: { all: [{ attribute: status, op: equals, value: paid }, { attribute: amount, op: greater_than, value: 5 }] }, window: { op: within_last, amount: 365, unit: days }, op: greater_than, value: 500 }",
        );
        assert_eq!(
            describe_measure(&paid),
            r#"sum of amount over orders where (status equals "paid" and amount greater than 5), dated within the last 365 days"#
        );
        let recent = measure_of(
            "{ has: orders, at_least: 3, window: { op: more_than_ago, amount: 1, unit: months } }",
        );
        assert_eq!(
            describe_measure(&recent),
            "number of orders, dated more than 1 month ago"
        );
    }
}

//! Property tests of the parsers that read what users write: the segment parser and email
//! parsing. Whatever the input, they return (no panic, no endless work), and a refusal says
//! where the problem is.

use proptest::prelude::*;
use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_domain::{Email, EmailProblem};

/// Segment-file-shaped text: keys, operators and values the parser knows, nested and mixed
/// with noise, so that generated files reach deep into the parser instead of failing at once.
fn segment_text() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        Just("{ attribute: tier, op: equals, value: gold }".to_owned()),
        Just("{ attribute: ltv, op: between, min: 1, max: 2 }".to_owned()),
        Just("{ attribute: at, op: within_last, amount: 3, unit: days }".to_owned()),
        Just("{ attribute: tier, op: in, values: [a, b] }".to_owned()),
        Just("{ attribute: tier, op: nonsense }".to_owned()),
        Just("{ attribute: at, op: within_last, amount: -1, unit: years }".to_owned()),
        Just("{ segment: other }".to_owned()),
        Just("{ union: [a, b] }".to_owned()),
        Just("{ except: [] }".to_owned()),
        Just("{ }".to_owned()),
        "[a-z{}\\[\\]:, ]{0,20}",
    ];
    let rule = atom.prop_recursive(6, 64, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|rules| format!("{{ all: [{}] }}", rules.join(", "))),
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|rules| format!("{{ any: [{}] }}", rules.join(", "))),
            inner.prop_map(|rule| format!("{{ not: {rule} }}")),
        ]
    });
    prop::collection::vec(("[a-z ]{0,6}", rule), 0..4).prop_map(|segments| {
        let mut text = String::from("segments:\n");
        for (name, rule) in segments {
            text.push_str(&format!("  - name: \"{name}\"\n    rule: {rule}\n"));
        }
        text
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn the_segment_parser_answers_any_text_and_names_where(text in "\\PC{0,200}") {
        check_parse(&text);
    }

    #[test]
    fn the_segment_parser_answers_segment_shaped_text_and_names_where(text in segment_text()) {
        check_parse(&text);
    }

    #[test]
    fn email_parsing_answers_any_text(raw in "\\PC{0,80}") {
        match Email::parse(&raw) {
            Ok(email) => {
                let email = email.as_str();
                prop_assert!(email.contains('@'), "{email:?}");
                prop_assert_eq!(email, email.trim());
                let again = Email::parse(email).unwrap();
                prop_assert_eq!(again.as_str(), email, "parsing is idempotent");
            }
            Err(EmailProblem::Missing) => prop_assert!(raw.trim().is_empty()),
            Err(_) => {}
        }
    }
}

fn check_parse(text: &str) {
    for format in [SegmentFormat::Yaml, SegmentFormat::Json] {
        if let Err(errors) = parse_segments(text, format, "generated.yaml") {
            assert!(!errors.is_empty(), "a refusal says why");
            for error in errors {
                assert!(!error.problem.is_empty(), "{error:?}");
                assert!(
                    error.path == "generated.yaml"
                        || error.path == "name"
                        || error.path.starts_with("rule"),
                    "the place is the file, the name or a rule path: {error:?}"
                );
            }
        }
    }
}

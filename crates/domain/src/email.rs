//! Email addresses as Constant Contact accepts them in an import.

use std::fmt;

/// The longest address a JSON import accepts.
pub const MAX_EMAIL_LENGTH: usize = 50;

/// A trimmed, lower-cased address that Constant Contact will accept. Two profiles with the
/// same `Email` are the same contact.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

/// Why an address cannot be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EmailProblem {
    Missing,
    TooLong,
    Malformed,
}

impl EmailProblem {
    /// A stable key for reports.
    pub fn key(self) -> &'static str {
        match self {
            Self::Missing => "missing_email",
            Self::TooLong => "email_too_long",
            Self::Malformed => "malformed_email",
        }
    }
}

impl fmt::Display for EmailProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "no email address",
            Self::TooLong => "email address longer than 50 characters",
            Self::Malformed => "malformed email address",
        })
    }
}

impl Email {
    /// Trims, checks and lower-cases an address. The rules: ASCII only; one `@`; a local part
    /// of 1 to 64 characters from RFC 5322's dot-atom set, with no leading, trailing or double
    /// dot; a domain of at least two labels of letters, digits and inner hyphens, ending in a
    /// top-level domain of two or more letters; at most 50 characters in all.
    pub fn parse(raw: &str) -> Result<Self, EmailProblem> {
        let mut email = String::new();
        Self::parse_into(raw, &mut email)?;
        Ok(Self(email))
    }

    /// [`Email::parse`] into a buffer the caller keeps from address to address: `out` holds the
    /// normalised address when it is valid.
    pub fn parse_into(raw: &str, out: &mut String) -> Result<(), EmailProblem> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailProblem::Missing);
        }
        let ascii = trimmed.is_ascii();
        let length = if ascii {
            trimmed.len()
        } else {
            trimmed.chars().count()
        };
        if length > MAX_EMAIL_LENGTH {
            return Err(EmailProblem::TooLong);
        }
        if !ascii {
            return Err(EmailProblem::Malformed);
        }
        let (local, domain) = trimmed.split_once('@').ok_or(EmailProblem::Malformed)?;
        if !(is_local_part(local) && is_domain(domain)) {
            return Err(EmailProblem::Malformed);
        }
        out.clear();
        out.push_str(trimmed);
        out.make_ascii_lowercase();
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_local_part(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+/=?^_`{|}~.-";
    (1..=64).contains(&local.len())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
}

fn is_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |label: &&str| {
        (1..=63).contains(&label.len())
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    labels.len() >= 2
        && labels.iter().all(label_ok)
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_compares_case_insensitively() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.COM ")
                .unwrap()
                .as_str(),
            "ada.lovelace@example.com"
        );
        assert_eq!(
            Email::parse("o'brien+news@mail.example.ie")
                .unwrap()
                .as_str(),
            "o'brien+news@mail.example.ie"
        );
        assert_eq!(Email::parse("A@B.io"), Email::parse("a@b.io"));
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(Email::parse(""), Err(EmailProblem::Missing));
        assert_eq!(Email::parse("   "), Err(EmailProblem::Missing));
        let long = format!("{}@example.com", "a".repeat(39));
        assert_eq!(Email::parse(&long), Err(EmailProblem::TooLong));
        for malformed in [
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a@@b.com",
            "a b@c.com",
            ".a@b.com",
            "a..b@c.com",
            "a@-b.com",
            "a@b.c0m",
            "zoë@example.com",
        ] {
            assert_eq!(
                Email::parse(malformed),
                Err(EmailProblem::Malformed),
                "{malformed}"
            );
        }
    }
}

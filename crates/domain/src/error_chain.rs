//! An error shown with every cause below it, each once: `outer: cause: root`. Error types keep
//! their own message and their cause as their `source()` (never both in the message), so logs,
//! run reasons and API messages show the chain through this, and `anyhow`'s `{:#}` shows it the
//! same way.

use std::error::Error;
use std::fmt;

/// Displays an error and its causes, `outer: cause: root`. A cause whose words the text
/// already holds is not repeated: other crates' errors sometimes embed their source too.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let said = error.to_string();
            if !text.contains(&said) {
                text = format!("{text}: {said}");
            }
            cause = error.source();
        }
        f.write_str(&text)
    }
}

/// `error.chain()`: the error with its causes, for logs and messages.
pub trait ChainExt {
    fn chain(&self) -> ErrorChain<'_>;
}

impl<E: Error> ChainExt for E {
    fn chain(&self) -> ErrorChain<'_> {
        ErrorChain(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading the file")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn each_cause_is_shown_once_in_order() {
        let error = Outer(std::io::Error::other("disk on fire"));
        assert_eq!(error.chain().to_string(), "reading the file: disk on fire");
        assert_eq!(
            format!("{:#}", anyhow::Error::new(error)),
            "reading the file: disk on fire"
        );
    }

    #[derive(Debug, thiserror::Error)]
    #[error("reading the file: {0}")]
    struct Embedding(#[source] std::io::Error);

    #[test]
    fn a_cause_another_crate_already_embedded_is_not_repeated() {
        let error = Embedding(std::io::Error::other("disk on fire"));
        assert_eq!(error.chain().to_string(), "reading the file: disk on fire");
    }
}

//! An error shown with every cause below it, each once: `outer: cause: root`. Error types keep
//! their own message and their cause as their `source()` (never both in the message), so logs,
//! run reasons and API messages show the chain through this, and `anyhow`'s `{:#}` shows it the
//! same way.

use std::error::Error;
use std::fmt;

/// Displays an error and its causes, `outer: cause: root`.
pub struct ErrorChain<'a>(pub &'a (dyn Error + 'a));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(error) = cause {
            write!(f, ": {error}")?;
            cause = error.source();
        }
        Ok(())
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
}

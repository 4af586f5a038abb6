//! How every Rampart error is printed: its message, then each cause in turn.
//!
//! The convention, for every error type in the workspace: a message says only its own
//! context ("cannot read rule file x.yml"), and its cause is returned by `source()`,
//! never also written into the message. So an error read alone is short, and this one
//! function, used wherever an error becomes text for a person (the command line's last
//! word, a diagnostic, a warning), prints the whole chain once.

use std::error::Error;

/// `error` and its causes, joined with `: `.
///
/// A cause whose text the line already ends with is not repeated: some third-party
/// errors (the EVTX parser's, for one) write their cause into their own message and
/// return it as their source as well. Only an exact repetition at the end is left
/// out, so a distinct cause is never dropped.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let next = inner.to_string();
        if !next.is_empty() && !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        cause = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_chain;
    use std::fmt;

    #[derive(Debug)]
    struct Layer {
        message: &'static str,
        cause: Option<Box<Layer>>,
    }

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.message)
        }
    }

    impl std::error::Error for Layer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.cause
                .as_deref()
                .map(|c| c as &(dyn std::error::Error + 'static))
        }
    }

    fn layers(messages: &[&'static str]) -> Layer {
        let mut layer: Option<Box<Layer>> = None;
        for message in messages.iter().rev() {
            layer = Some(Box::new(Layer {
                message,
                cause: layer,
            }));
        }
        *layer.expect("at least one message")
    }

    #[test]
    fn every_cause_is_printed_once_in_order() {
        let error = layers(&["cannot read rules/x.yml", "permission denied"]);
        assert_eq!(
            error_chain(&error),
            "cannot read rules/x.yml: permission denied"
        );
    }

    #[test]
    fn a_cause_already_ending_the_line_is_not_repeated() {
        let error = layers(&["chunk 3: bad header", "bad header", "bad magic"]);
        assert_eq!(error_chain(&error), "chunk 3: bad header: bad magic");
    }

    #[test]
    fn a_cause_found_only_inside_the_message_is_still_printed() {
        // The old substring check dropped "invalid" here: the message merely contains
        // the word, it does not end with the cause.
        let error = layers(&["invalid value in field Image", "invalid"]);
        assert_eq!(error_chain(&error), "invalid value in field Image: invalid");
    }
}

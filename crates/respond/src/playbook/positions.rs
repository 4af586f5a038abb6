//! Where each node of a YAML document starts, by JSON pointer.
//!
//! The schema validator and the linter speak of places as JSON pointers
//! (`/steps/2/action`); an author needs a line and a column. serde's YAML loader drops
//! positions, so this walks the event stream of `yaml-rust2` once and records, for every
//! node, where its value starts and (for a map entry) where its key starts.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, Parser};

/// How deep collections may nest. A playbook nests about eight levels (a step's HTTP
/// body adds a few); 64 leaves room while bounding the parser's work on hostile input.
pub const MAX_DEPTH: usize = 64;

/// A 1-based line and column.
pub type Place = (usize, usize);

/// The start of every node of one document, by JSON pointer (`""` is the root).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Positions {
    values: HashMap<String, Place>,
    keys: HashMap<String, Place>,
}

impl Positions {
    /// Where the node at `pointer` starts; for a pointer the document does not hold,
    /// the nearest ancestor that it does (at worst the root, at worst `(1, 1)`).
    pub fn value(&self, pointer: &str) -> Place {
        let mut pointer = pointer;
        loop {
            if let Some(place) = self.values.get(pointer) {
                return *place;
            }
            match pointer.rfind('/') {
                Some(cut) => pointer = &pointer[..cut],
                None => return (1, 1),
            }
        }
    }

    /// Where the key of the map entry at `pointer` starts (its value's place when the
    /// entry is not a map entry).
    pub fn key(&self, pointer: &str) -> Place {
        self.keys
            .get(pointer)
            .copied()
            .unwrap_or_else(|| self.value(pointer))
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// An open collection.
enum Frame {
    Map {
        pointer: String,
        /// The key whose value comes next, or `None` when a key comes next.
        key: Option<String>,
    },
    Seq {
        pointer: String,
        next: usize,
    },
}

/// A problem that stops the walk: the YAML is not well formed, or nests too deep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionError {
    /// Where.
    pub place: Place,
    /// What.
    pub message: String,
}

/// Walks `source` and records where each node of its first document starts; also says
/// how many documents it holds.
pub fn positions(source: &str) -> Result<(Positions, usize), PositionError> {
    let mut found = Positions::default();
    let mut stack: Vec<Frame> = Vec::new();
    let mut documents = 0usize;
    let mut parser = Parser::new_from_str(source);
    loop {
        let (event, mark) = parser.next_token().map_err(|error| PositionError {
            place: (error.marker().line().max(1), error.marker().col() + 1),
            message: format!("invalid YAML: {}", error.info()),
        })?;
        let place = (mark.line().max(1), mark.col() + 1);
        match event {
            Event::StreamEnd => return Ok((found, documents)),
            Event::DocumentStart => documents += 1,
            Event::Scalar(text, ..) => {
                if let Some(Frame::Map { pointer, key }) = stack.last_mut() {
                    if key.is_none() {
                        let child = format!("{pointer}/{}", escape_token(&text));
                        found.keys.entry(child).or_insert(place);
                        *key = Some(text);
                        continue;
                    }
                }
                if documents <= 1 {
                    let pointer = next_pointer(&mut stack);
                    found.values.entry(pointer).or_insert(place);
                } else {
                    next_pointer(&mut stack);
                }
            }
            Event::Alias(_) => {
                let pointer = next_pointer(&mut stack);
                if documents <= 1 {
                    found.values.entry(pointer).or_insert(place);
                }
            }
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(PositionError {
                        place,
                        message: format!("collections nest deeper than {MAX_DEPTH} levels"),
                    });
                }
                let pointer = next_pointer(&mut stack);
                if documents <= 1 {
                    found.values.entry(pointer.clone()).or_insert(place);
                }
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map { pointer, key: None }
                } else {
                    Frame::Seq { pointer, next: 0 }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                stack.pop();
            }
            _ => {}
        }
    }
}

/// The pointer of the node about to start, advancing its parent: a map's value (a
/// collection used as a key is recorded as `?`), a sequence's next item, or the root.
fn next_pointer(stack: &mut [Frame]) -> String {
    match stack.last_mut() {
        None => String::new(),
        Some(Frame::Seq { pointer, next }) => {
            let child = format!("{pointer}/{next}");
            *next += 1;
            child
        }
        Some(Frame::Map { pointer, key }) => match key.take() {
            Some(key) => format!("{pointer}/{}", escape_token(&key)),
            None => {
                // A collection as a key: the value that follows is filed under `?`.
                *key = Some("?".to_owned());
                format!("{pointer}/?")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_and_keys_have_their_places() {
        let text = "id: x\nsteps:\n  - id: a\n    action: {command: {program: p}}\n  - id: b\n";
        let (found, documents) = positions(text).unwrap_or_default();
        assert_eq!(documents, 1);
        assert_eq!(found.value("/id"), (1, 5));
        assert_eq!(found.key("/steps"), (2, 1));
        assert_eq!(found.value("/steps/1/id"), (5, 9));
        assert_eq!(found.key("/steps/0/action"), (4, 5));
        assert_eq!(found.value("/steps/0/action/command/program"), (4, 33));
        // Unknown pointers fall back to their nearest known ancestor.
        assert_eq!(
            found.value("/steps/1/nothing/here"),
            found.value("/steps/1")
        );
        assert_eq!(found.value("/steps/1").0, 5);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(100);
        let error = positions(&text).err();
        assert!(
            error.is_some_and(|e| e.message.contains("deeper than 64")),
            "nesting is capped"
        );
    }
}

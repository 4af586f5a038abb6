//! A small YAML tree that remembers line numbers.
//!
//! Rule authors need diagnostics that point at a line, and serde-style YAML loaders
//! drop positions. This module builds a tree from the event stream of `yaml-rust2`,
//! keeping each node's line and, for scalars, the text exactly as written: Sigma
//! compares strings, so `0x17` or `010` must stay what the author typed.

use crate::diagnostic::{DiagnosticKind, Problem};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// One YAML node and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub line: usize,
    pub kind: NodeKind,
}

/// What a node holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    /// `null`, `~` or nothing.
    Null,
    /// A scalar: its text, and whether it was plain (unquoted), which decides if it
    /// may be read as a number or boolean.
    Scalar { text: String, plain: bool },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The scalar's text (numbers and booleans as written); `None` for null and
    /// collections.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            NodeKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether the node is null.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, NodeKind::Null)
    }

    /// A plain scalar read as a boolean (`true`/`false`, any case).
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            NodeKind::Scalar { text, plain: true } => match text.to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// A short name of the node's type, for messages.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            NodeKind::Null => "null",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a map",
        }
    }
}

/// One YAML document of a file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Document {
    /// 1-based line of the document's start.
    pub line: usize,
    /// The root node.
    pub root: Node,
}

/// Parses every document of a YAML stream.
pub(crate) fn parse_documents(source: &str) -> Result<Vec<Document>, Problem> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(source);
    parser.load(&mut builder, true).map_err(|error| {
        Problem::new(
            DiagnosticKind::Yaml,
            error.marker().line().max(1),
            format!("invalid YAML: {}", error.info()),
        )
    })?;
    if let Some(problem) = builder.problem {
        return Err(problem);
    }
    Ok(builder.documents)
}

/// Collects parser events into nodes.
#[derive(Default)]
struct Builder {
    documents: Vec<Document>,
    /// Open collections: the node under construction and, for maps, a pending key.
    stack: Vec<(Node, Option<Node>)>,
    /// Anchored nodes by anchor id, for aliases.
    anchors: Vec<(usize, Node)>,
    /// Anchor ids of the open collections, parallel to `stack`.
    open_anchors: Vec<usize>,
    document_line: usize,
    problem: Option<Problem>,
}

impl Builder {
    fn push_value(&mut self, node: Node) {
        match self.stack.last_mut() {
            None => self.documents.push(Document {
                line: self.document_line,
                root: node,
            }),
            Some((parent, pending_key)) => match &mut parent.kind {
                NodeKind::Seq(items) => items.push(node),
                NodeKind::Map(entries) => match pending_key.take() {
                    None => *pending_key = Some(node),
                    Some(key) => {
                        if self.problem.is_none() {
                            if let Some(name) = key.as_str() {
                                if entries.iter().any(|(k, _)| k.as_str() == Some(name)) {
                                    self.problem = Some(Problem::new(
                                        DiagnosticKind::Yaml,
                                        key.line,
                                        format!("duplicate key `{name}` in a map"),
                                    ));
                                }
                            }
                        }
                        entries.push((key, node));
                    }
                },
                NodeKind::Null | NodeKind::Scalar { .. } => {}
            },
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        let line = mark.line().max(1);
        match event {
            Event::DocumentStart => self.document_line = line,
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    line,
                    kind: scalar_kind(text, style, tag.as_ref()),
                };
                self.remember(anchor, &node);
                self.push_value(node);
            }
            Event::Alias(anchor) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(id, _)| *id == anchor)
                    .map(|(_, node)| node.clone())
                    .unwrap_or(Node {
                        line,
                        kind: NodeKind::Null,
                    });
                self.push_value(node);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack.push((
                    Node {
                        line,
                        kind: NodeKind::Seq(Vec::new()),
                    },
                    None,
                ));
                self.open_anchors.push(anchor);
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push((
                    Node {
                        line,
                        kind: NodeKind::Map(Vec::new()),
                    },
                    None,
                ));
                self.open_anchors.push(anchor);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let (Some((node, _)), Some(anchor)) = (self.stack.pop(), self.open_anchors.pop())
                {
                    self.remember(anchor, &node);
                    self.push_value(node);
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
    }
}

/// Plain `null`, `~` and empty scalars are null; everything else keeps its text.
fn scalar_kind(text: String, style: TScalarStyle, tag: Option<&Tag>) -> NodeKind {
    let plain = style == TScalarStyle::Plain;
    let tagged_null = tag.is_some_and(|tag| tag.suffix == "null");
    if tagged_null || (plain && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")) {
        NodeKind::Null
    } else {
        NodeKind::Scalar { text, plain }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_lines_and_text_as_written() {
        let docs =
            parse_documents("title: t\ndetection:\n  sel:\n    A: 0x17\n    B: 'x'\n    C:\n")
                .unwrap_or_default();
        assert_eq!(docs.len(), 1);
        let sel = docs[0].root.get("detection").and_then(|d| d.get("sel"));
        let a = sel.and_then(|s| s.get("A"));
        assert_eq!(a.and_then(Node::as_str), Some("0x17"));
        assert_eq!(a.map(|n| n.line), Some(4));
        assert!(sel.and_then(|s| s.get("C")).is_some_and(Node::is_null));
    }

    #[test]
    fn several_documents_and_errors() {
        let docs = parse_documents("a: 1\n---\nb: 2\n").unwrap_or_default();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].line, 2);
        let error = parse_documents("a: [1\nb: 2\n");
        assert!(matches!(
            error,
            Err(Problem {
                kind: DiagnosticKind::Yaml,
                ..
            })
        ));
        let duplicate = parse_documents("a: 1\na: 2\n");
        assert!(matches!(duplicate, Err(Problem { line: 2, .. })));
    }
}

//! A small YAML tree that remembers line numbers.
//!
//! Rule authors need diagnostics that point at a line, and serde-style YAML loaders
//! drop positions. This module builds a tree from the event stream of `yaml-rust2`,
//! keeping each node's line and, for scalars, the text exactly as written: Sigma
//! compares strings, so `0x17` or `010` must stay what the author typed.

use crate::diagnostic::{DiagnosticKind, Problem};
use std::collections::{HashMap, HashSet};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::TScalarStyle;

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

/// How deep collections may nest, aliases expanded included. Sigma rules nest about
/// six levels; 64 leaves room for any real rule while every recursive walk over the
/// tree (clone, drop, merge, detection parsing) stays far from the stack's end.
pub(crate) const MAX_DEPTH: usize = 64;

/// How many nodes aliases may add to one document once expanded. Aliases are copied
/// into the tree, so without a budget nine lines of nine aliases each ("billion
/// laughs") would build 9^9 nodes; real rules use a few aliases of short lists.
pub(crate) const MAX_ALIAS_NODES: usize = 10_000;

/// Parses every document of a YAML stream.
///
/// The parser is driven event by event: `yaml-rust2`'s own `load` recurses once per
/// nesting level, which a few thousand `- ` on one line would turn into a stack
/// overflow, so nesting is checked here before it gets that deep.
pub(crate) fn parse_documents(source: &str) -> Result<Vec<Document>, Problem> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(source);
    loop {
        let (event, mark) = parser.next_token().map_err(|error| {
            Problem::new(
                DiagnosticKind::Yaml,
                error.marker().line().max(1),
                format!("invalid YAML: {}", error.info()),
            )
        })?;
        if event == Event::StreamEnd {
            return Ok(builder.documents);
        }
        builder.on_event(event, mark.line().max(1))?;
    }
}

/// A collection being built.
struct Open {
    node: Node,
    /// A map's key waiting for its value.
    pending_key: Option<Node>,
    /// The anchor id to remember the finished collection under (0 for none).
    anchor: usize,
    /// Nodes in the collection so far, itself included.
    size: usize,
    /// Levels of collections below it so far.
    height: usize,
    /// A map's text keys so far, to find a duplicate without scanning the map.
    keys: HashSet<String>,
}

/// An anchored node, with the size and height an alias of it adds.
struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

/// Collects parser events into nodes.
#[derive(Default)]
struct Builder {
    documents: Vec<Document>,
    /// Open collections, outermost first.
    stack: Vec<Open>,
    /// Anchored nodes by anchor id, for aliases.
    anchors: HashMap<usize, Anchored>,
    /// Nodes aliases added to the current document.
    alias_nodes: usize,
    document_line: usize,
}

impl Builder {
    fn on_event(&mut self, event: Event, line: usize) -> Result<(), Problem> {
        match event {
            Event::DocumentStart => {
                self.document_line = line;
                self.alias_nodes = 0;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    line,
                    kind: scalar_kind(text, style, tag.as_ref()),
                };
                self.remember(anchor, &node, 1, 0);
                self.push_value(node, 1, 0)?;
            }
            Event::Alias(anchor) => {
                let (node, size, height) = match self.anchors.get(&anchor) {
                    Some(anchored) => {
                        self.check_depth(anchored.height, line)?;
                        self.alias_nodes = self.alias_nodes.saturating_add(anchored.size);
                        if self.alias_nodes > MAX_ALIAS_NODES {
                            return Err(Problem::new(
                                DiagnosticKind::Yaml,
                                line,
                                format!(
                                    "aliases expand to more than {MAX_ALIAS_NODES} nodes in one document"
                                ),
                            ));
                        }
                        (anchored.node.clone(), anchored.size, anchored.height)
                    }
                    None => (
                        Node {
                            line,
                            kind: NodeKind::Null,
                        },
                        1,
                        0,
                    ),
                };
                self.push_value(node, size, height)?;
            }
            Event::SequenceStart(anchor, _) => {
                self.open(NodeKind::Seq(Vec::new()), anchor, line)?
            }
            Event::MappingStart(anchor, _) => self.open(NodeKind::Map(Vec::new()), anchor, line)?,
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(open) = self.stack.pop() {
                    let height = open.height + 1;
                    self.remember(open.anchor, &open.node, open.size, height);
                    self.push_value(open.node, open.size, height)?;
                }
            }
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// Fails when a node `height` levels high would nest too deep where it goes.
    fn check_depth(&self, height: usize, line: usize) -> Result<(), Problem> {
        if self.stack.len() + height > MAX_DEPTH {
            return Err(Problem::new(
                DiagnosticKind::Yaml,
                line,
                format!("YAML nests deeper than {MAX_DEPTH} levels"),
            ));
        }
        Ok(())
    }

    fn open(&mut self, kind: NodeKind, anchor: usize, line: usize) -> Result<(), Problem> {
        self.check_depth(1, line)?;
        self.stack.push(Open {
            node: Node { line, kind },
            pending_key: None,
            anchor,
            size: 1,
            height: 0,
            keys: HashSet::new(),
        });
        Ok(())
    }

    fn push_value(&mut self, node: Node, size: usize, height: usize) -> Result<(), Problem> {
        let Some(open) = self.stack.last_mut() else {
            self.documents.push(Document {
                line: self.document_line,
                root: node,
            });
            return Ok(());
        };
        open.size = open.size.saturating_add(size);
        open.height = open.height.max(height);
        match &mut open.node.kind {
            NodeKind::Seq(items) => items.push(node),
            NodeKind::Map(entries) => match open.pending_key.take() {
                None => open.pending_key = Some(node),
                Some(key) => {
                    if let Some(name) = key.as_str() {
                        if !open.keys.insert(name.to_string()) {
                            return Err(Problem::new(
                                DiagnosticKind::Yaml,
                                key.line,
                                format!("duplicate key `{name}` in a map"),
                            ));
                        }
                    }
                    entries.push((key, node));
                }
            },
            NodeKind::Null | NodeKind::Scalar { .. } => {}
        }
        Ok(())
    }

    /// Keeps a copy of an anchored node for its aliases. The copy costs no more than
    /// the node itself, and aliases of it are paid for from the alias budget.
    fn remember(&mut self, anchor: usize, node: &Node, size: usize, height: usize) {
        if anchor > 0 {
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    size,
                    height,
                },
            );
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

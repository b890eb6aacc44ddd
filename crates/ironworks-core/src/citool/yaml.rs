//! Composing YAML text into a positioned tree, the way rust-lang's jobs files
//! need it: anchors and aliases resolved, `<<` merge keys applied, scalars
//! typed by the YAML 1.2 core schema.
//!
//! The event parser comes from `saphyr-parser`; composition is ours so that
//! every node keeps its line and column, merges follow the merge-key spec at
//! any depth, and a node that aliases or merges itself is reported as a cycle
//! instead of silently becoming a bad value.

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

use super::error::{CitoolError, Location, Pos};

/// Aliases copy their anchor's subtree; this caps the total so that a few
/// nested aliases cannot blow up memory ("billion laughs").
pub const ALIAS_NODE_LIMIT: usize = 100_000;

/// A scalar typed by the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    pub fn kind(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "a boolean",
            Scalar::Int(_) => "an integer",
            Scalar::Float(_) => "a float",
            Scalar::Str(_) => "a string",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in source order, merges already applied, no `<<` left.
    Map(Vec<Entry>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

impl Node {
    pub fn kind(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => s.kind(),
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn count(&self) -> usize {
        1 + match &self.value {
            Value::Scalar(_) => 0,
            Value::Seq(items) => items.iter().map(Node::count).sum(),
            Value::Map(entries) => entries.iter().map(|e| 1 + e.value.count()).sum(),
        }
    }
}

/// Parse `text` (named `file` in messages) into its one document.
pub fn compose(text: &str, file: &str) -> Result<Node, CitoolError> {
    let mut composer = Composer {
        text,
        file,
        frames: Vec::new(),
        anchors: std::collections::HashMap::new(),
        aliased: 0,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| composer.scan_error(&e))?;
        composer.event(event, span)?;
    }
    composer.root.ok_or_else(|| CitoolError::Empty {
        file: file.to_string(),
    })
}

enum FrameKind {
    Seq(Vec<Node>),
    Map {
        entries: Vec<Entry>,
        merges: Vec<Node>,
        /// The key read so far, waiting for its value: (text, position, is `<<`).
        key: Option<(String, Pos, bool)>,
    },
}

struct Frame {
    pos: Pos,
    anchor: usize,
    kind: FrameKind,
}

/// A finished node, plus what a mapping needs if it turns out to be a key.
struct Finished {
    node: Node,
    key_text: Option<String>,
    merge_key: bool,
}

struct Composer<'a> {
    text: &'a str,
    file: &'a str,
    frames: Vec<Frame>,
    anchors: std::collections::HashMap<usize, Node>,
    aliased: usize,
    root: Option<Node>,
    documents: usize,
}

fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

impl Composer<'_> {
    fn at(&self, pos: Pos) -> Location {
        Location {
            file: self.file.to_string(),
            pos,
        }
    }

    /// The `*name` of an alias whose `*` is at character `index`.
    fn alias_name(&self, index: usize) -> String {
        self.text
            .chars()
            .skip(index)
            .skip_while(|c| *c == '*')
            .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | '[' | ']' | '{' | '}'))
            .collect()
    }

    fn scan_error(&self, err: &ScanError) -> CitoolError {
        let marker = err.marker();
        let at = self.at(Pos {
            line: marker.line(),
            column: marker.col() + 1,
        });
        if err.info().contains("unknown anchor") {
            return CitoolError::UnknownAnchor {
                at,
                name: self.alias_name(marker.index()),
            };
        }
        CitoolError::Yaml {
            at,
            message: err.info().to_string(),
        }
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), CitoolError> {
        let pos = pos_of(&span);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 && self.root.is_some() {
                    return Err(CitoolError::MultipleDocuments { at: self.at(pos) });
                }
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", pos)?;
                self.frames.push(Frame {
                    pos,
                    anchor,
                    kind: FrameKind::Seq(Vec::new()),
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", pos)?;
                self.frames.push(Frame {
                    pos,
                    anchor,
                    kind: FrameKind::Map {
                        entries: Vec::new(),
                        merges: Vec::new(),
                        key: None,
                    },
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let frame = self.frames.pop().ok_or_else(|| CitoolError::Yaml {
                    at: self.at(pos),
                    message: "unbalanced collection end".into(),
                })?;
                let value = match frame.kind {
                    FrameKind::Seq(items) => Value::Seq(items),
                    FrameKind::Map {
                        entries, merges, ..
                    } => Value::Map(self.apply_merges(entries, merges)?),
                };
                let node = Node {
                    pos: frame.pos,
                    value,
                };
                self.remember(frame.anchor, &node);
                self.finish(Finished {
                    node,
                    key_text: None,
                    merge_key: false,
                })?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = self.resolve_scalar(&text, style, tag.as_deref(), pos)?;
                let node = Node {
                    pos,
                    value: Value::Scalar(scalar),
                };
                self.remember(anchor, &node);
                self.finish(Finished {
                    node,
                    merge_key: style == ScalarStyle::Plain && tag.is_none() && text == "<<",
                    key_text: Some(text.into_owned()),
                })?;
            }
            Event::Alias(id) => {
                let name = self.alias_name(span.start.index());
                let Some(target) = self.anchors.get(&id) else {
                    // The parser knows the anchor, so it is still open: the
                    // alias sits inside the very node it names.
                    return Err(CitoolError::CyclicAlias {
                        at: self.at(pos),
                        name,
                    });
                };
                self.aliased += target.count();
                if self.aliased > ALIAS_NODE_LIMIT {
                    return Err(CitoolError::AliasBudget {
                        at: self.at(pos),
                        limit: ALIAS_NODE_LIMIT,
                    });
                }
                let node = target.clone();
                let key_text = match &node.value {
                    Value::Scalar(s) => Some(scalar_text(s)),
                    _ => None,
                };
                self.finish(Finished {
                    node,
                    key_text,
                    merge_key: false,
                })?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        // Anchor ids start at 1; 0 means "no anchor".
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    fn check_collection_tag(
        &self,
        tag: Option<&Tag>,
        expected: &str,
        pos: Pos,
    ) -> Result<(), CitoolError> {
        match tag {
            None => Ok(()),
            Some(tag) if tag.is_yaml_core_schema() && tag.suffix == expected => Ok(()),
            Some(tag) => Err(CitoolError::UnsupportedTag {
                at: self.at(pos),
                tag: tag.to_string(),
            }),
        }
    }

    fn resolve_scalar(
        &self,
        text: &str,
        style: ScalarStyle,
        tag: Option<&Tag>,
        pos: Pos,
    ) -> Result<Scalar, CitoolError> {
        let bad = |kind| CitoolError::BadTaggedScalar {
            at: self.at(pos),
            text: text.to_string(),
            kind,
        };
        if let Some(tag) = tag {
            if !tag.is_yaml_core_schema() {
                return Err(CitoolError::UnsupportedTag {
                    at: self.at(pos),
                    tag: tag.to_string(),
                });
            }
            return match tag.suffix.as_str() {
                "str" => Ok(Scalar::Str(text.to_string())),
                "null" => match resolve_plain(text) {
                    Ok(Scalar::Null) => Ok(Scalar::Null),
                    _ => Err(bad("null")),
                },
                "bool" => match resolve_plain(text) {
                    Ok(b @ Scalar::Bool(_)) => Ok(b),
                    _ => Err(bad("boolean")),
                },
                "int" => match resolve_plain(text) {
                    Ok(i @ Scalar::Int(_)) => Ok(i),
                    _ => Err(bad("integer")),
                },
                "float" => match resolve_plain(text) {
                    Ok(Scalar::Int(i)) => Ok(Scalar::Float(i as f64)),
                    Ok(f @ Scalar::Float(_)) => Ok(f),
                    _ => Err(bad("float")),
                },
                _ => Err(CitoolError::UnsupportedTag {
                    at: self.at(pos),
                    tag: tag.to_string(),
                }),
            };
        }
        if style != ScalarStyle::Plain {
            return Ok(Scalar::Str(text.to_string()));
        }
        resolve_plain(text).map_err(|()| CitoolError::IntegerOutOfRange {
            at: self.at(pos),
            text: text.to_string(),
        })
    }

    /// Hand a finished node to its parent (or make it the document root).
    fn finish(&mut self, finished: Finished) -> Result<(), CitoolError> {
        let Some(parent) = self.frames.last_mut() else {
            self.root = Some(finished.node);
            return Ok(());
        };
        match &mut parent.kind {
            FrameKind::Seq(items) => items.push(finished.node),
            FrameKind::Map {
                key: key @ None, ..
            } => {
                let Some(text) = finished.key_text else {
                    return Err(CitoolError::NonScalarKey {
                        at: self.at(finished.node.pos),
                        found: finished.node.kind(),
                    });
                };
                *key = Some((text, finished.node.pos, finished.merge_key));
            }
            FrameKind::Map {
                entries,
                merges,
                key,
            } => {
                let Some((text, key_pos, is_merge)) = key.take() else {
                    unreachable!("the arm above handles a missing key");
                };
                if is_merge {
                    merges.push(finished.node);
                    return Ok(());
                }
                if let Some(first) = entries.iter().find(|e| e.key == text) {
                    let first_line = first.key_pos.line;
                    return Err(CitoolError::DuplicateKey {
                        at: Location {
                            file: self.file.to_string(),
                            pos: key_pos,
                        },
                        key: text,
                        first_line,
                    });
                }
                entries.push(Entry {
                    key: text,
                    key_pos,
                    value: finished.node,
                });
            }
        }
        Ok(())
    }

    /// Merge-key semantics: keys written in the mapping win over merged ones;
    /// among merged mappings, the earlier one wins. Merged mappings were
    /// composed (and their own merges applied) before, so any depth works.
    fn apply_merges(
        &self,
        mut entries: Vec<Entry>,
        merges: Vec<Node>,
    ) -> Result<Vec<Entry>, CitoolError> {
        for merge in merges {
            let sources = match merge.value {
                Value::Map(map) => vec![map],
                Value::Seq(items) => {
                    let mut maps = Vec::with_capacity(items.len());
                    for item in items {
                        match item.value {
                            Value::Map(map) => maps.push(map),
                            _ => {
                                return Err(CitoolError::InvalidMerge {
                                    at: self.at(item.pos),
                                    found: item.kind(),
                                });
                            }
                        }
                    }
                    maps
                }
                Value::Scalar(_) => {
                    return Err(CitoolError::InvalidMerge {
                        at: self.at(merge.pos),
                        found: merge.kind(),
                    });
                }
            };
            for source in sources {
                for entry in source {
                    if !entries.iter().any(|e| e.key == entry.key) {
                        entries.push(entry);
                    }
                }
            }
        }
        Ok(entries)
    }
}

/// The text a scalar stands for when it is used as a key through an alias.
fn scalar_text(scalar: &Scalar) -> String {
    match scalar {
        Scalar::Null => "null".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Str(s) => s.clone(),
    }
}

/// Resolve an untagged plain scalar by the YAML 1.2 core schema. `Err` means
/// it looks like an integer but does not fit in an `i64`.
fn resolve_plain(text: &str) -> Result<Scalar, ()> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Scalar::Null),
        "true" | "True" | "TRUE" => return Ok(Scalar::Bool(true)),
        "false" | "False" | "FALSE" => return Ok(Scalar::Bool(false)),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Ok(Scalar::Float(f64::INFINITY));
        }
        "-.inf" | "-.Inf" | "-.INF" => return Ok(Scalar::Float(f64::NEG_INFINITY)),
        ".nan" | ".NaN" | ".NAN" => return Ok(Scalar::Float(f64::NAN)),
        _ => {}
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits(unsigned) {
        return text.parse::<i64>().map(Scalar::Int).map_err(|_| ());
    }
    for (prefix, radix) in [("0o", 8), ("0x", 16)] {
        if let Some(rest) = text.strip_prefix(prefix)
            && !rest.is_empty()
            && rest.chars().all(|c| c.is_digit(radix))
        {
            return i64::from_str_radix(rest, radix)
                .map(Scalar::Int)
                .map_err(|_| ());
        }
    }
    if is_core_float(unsigned)
        && let Ok(f) = text.parse::<f64>()
    {
        return Ok(Scalar::Float(f));
    }
    Ok(Scalar::Str(text.to_string()))
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, sign already removed.
fn is_core_float(text: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => digits(frac),
        Some((int, frac)) => digits(int) && (frac.is_empty() || digits(frac)),
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(node: &Node) -> &[Entry] {
        match &node.value {
            Value::Map(entries) => entries,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn get<'a>(node: &'a Node, key: &str) -> &'a Node {
        &map(node)
            .iter()
            .find(|e| e.key == key)
            .unwrap_or_else(|| panic!("no key {key}"))
            .value
    }

    fn scalar(node: &Node) -> &Scalar {
        match &node.value {
            Value::Scalar(s) => s,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn core_schema_types() {
        let doc = compose(
            "a: 1\nb: 11.0\nc: \"0\"\nd: true\ne: ~\nf: 0x1F\ng: -3\nh: 1e3\ni: hello\nj: '1'\nk: !!str 2\nl: .5\nm: 1.2.3\nn: 10.12\no:\n",
            "t.yml",
        )
        .unwrap();
        assert_eq!(scalar(get(&doc, "a")), &Scalar::Int(1));
        assert_eq!(scalar(get(&doc, "b")), &Scalar::Float(11.0));
        assert_eq!(scalar(get(&doc, "c")), &Scalar::Str("0".into()));
        assert_eq!(scalar(get(&doc, "d")), &Scalar::Bool(true));
        assert_eq!(scalar(get(&doc, "e")), &Scalar::Null);
        assert_eq!(scalar(get(&doc, "f")), &Scalar::Int(31));
        assert_eq!(scalar(get(&doc, "g")), &Scalar::Int(-3));
        assert_eq!(scalar(get(&doc, "h")), &Scalar::Float(1000.0));
        assert_eq!(scalar(get(&doc, "i")), &Scalar::Str("hello".into()));
        assert_eq!(scalar(get(&doc, "j")), &Scalar::Str("1".into()));
        assert_eq!(scalar(get(&doc, "k")), &Scalar::Str("2".into()));
        assert_eq!(scalar(get(&doc, "l")), &Scalar::Float(0.5));
        assert_eq!(scalar(get(&doc, "m")), &Scalar::Str("1.2.3".into()));
        assert_eq!(scalar(get(&doc, "n")), &Scalar::Float(10.12));
        assert_eq!(scalar(get(&doc, "o")), &Scalar::Null);
    }

    #[test]
    fn positions_are_one_based() {
        let doc = compose("top:\n  inner: x\n", "t.yml").unwrap();
        let top = &map(&doc)[0];
        assert_eq!(top.key_pos, Pos { line: 1, column: 1 });
        let inner = &map(&top.value)[0];
        assert_eq!(inner.key_pos, Pos { line: 2, column: 3 });
    }

    #[test]
    fn merge_explicit_keys_win_and_earlier_merges_win() {
        let doc = compose(
            "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  x: 0\n  <<: [*a, *b]\n",
            "t.yml",
        )
        .unwrap();
        let c = get(&doc, "c");
        assert_eq!(scalar(get(c, "x")), &Scalar::Int(0));
        assert_eq!(scalar(get(c, "y")), &Scalar::Int(1));
        assert_eq!(scalar(get(c, "z")), &Scalar::Int(2));
        assert!(map(c).iter().all(|e| e.key != "<<"));
    }

    #[test]
    fn nested_merges_resolve_at_any_depth() {
        let doc = compose(
            "a: &a {deep: 1}\nb: &b {<<: *a, mid: 2}\nc: &c {<<: *b, top: 3}\nd: {<<: *c}\n",
            "t.yml",
        )
        .unwrap();
        let d = get(&doc, "d");
        assert_eq!(scalar(get(d, "deep")), &Scalar::Int(1));
        assert_eq!(scalar(get(d, "mid")), &Scalar::Int(2));
        assert_eq!(scalar(get(d, "top")), &Scalar::Int(3));
    }

    #[test]
    fn quoted_merge_key_is_a_plain_key() {
        let doc = compose("a: &a {x: 1}\nb: {\"<<\": *a}\n", "t.yml").unwrap();
        assert_eq!(map(get(&doc, "b"))[0].key, "<<");
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let err = compose("a: 1\nb: [1, 2\n", "jobs.yml").unwrap_err();
        let CitoolError::Yaml { at, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(at.file, "jobs.yml");
        assert!(at.pos.line >= 2, "{err}");
        assert!(err.to_string().starts_with("jobs.yml:"), "{err}");
    }

    #[test]
    fn unknown_anchor_is_named() {
        let err = compose("a: 1\nb:\n  <<: *missing\n", "jobs.yml").unwrap_err();
        assert_eq!(
            err,
            CitoolError::UnknownAnchor {
                at: Location {
                    file: "jobs.yml".into(),
                    pos: Pos { line: 3, column: 7 }
                },
                name: "missing".into()
            }
        );
        assert!(err.to_string().contains("jobs.yml:3:7"), "{err}");
    }

    #[test]
    fn self_merge_is_a_cycle() {
        let err = compose("a: &loop\n  x: 1\n  <<: *loop\n", "jobs.yml").unwrap_err();
        assert_eq!(
            err,
            CitoolError::CyclicAlias {
                at: Location {
                    file: "jobs.yml".into(),
                    pos: Pos { line: 3, column: 7 }
                },
                name: "loop".into()
            }
        );
        let nested = compose("a: &outer\n  b:\n    <<: *outer\n", "jobs.yml").unwrap_err();
        assert!(
            matches!(nested, CitoolError::CyclicAlias { .. }),
            "{nested}"
        );
    }

    #[test]
    fn bad_merge_value() {
        let err = compose("a: {<<: 3}\n", "t.yml").unwrap_err();
        assert!(matches!(
            err,
            CitoolError::InvalidMerge {
                found: "an integer",
                ..
            }
        ));
        let err = compose("a: &a [1]\nb: {<<: [*a]}\n", "t.yml").unwrap_err();
        assert!(
            matches!(
                err,
                CitoolError::InvalidMerge {
                    found: "a list",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_rejected() {
        let err = compose("a: 1\nb: 2\na: 3\n", "t.yml").unwrap_err();
        assert!(
            matches!(&err, CitoolError::DuplicateKey { key, first_line: 1, at } if key == "a" && at.pos.line == 3),
            "{err:?}"
        );
    }

    #[test]
    fn alias_bomb_is_capped() {
        let mut text = String::from("l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "l{i}: &l{i} [*l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}, *l{p}]\n"
            ));
        }
        let err = compose(&text, "t.yml").unwrap_err();
        assert!(matches!(err, CitoolError::AliasBudget { .. }), "{err}");
    }

    #[test]
    fn empty_and_multiple_documents() {
        assert!(matches!(
            compose("# nothing\n", "t.yml"),
            Err(CitoolError::Empty { .. })
        ));
        assert!(matches!(
            compose("a: 1\n---\nb: 2\n", "t.yml"),
            Err(CitoolError::MultipleDocuments { .. })
        ));
    }

    #[test]
    fn unsupported_tags_and_big_integers() {
        assert!(matches!(
            compose("a: !custom x\n", "t.yml"),
            Err(CitoolError::UnsupportedTag { .. })
        ));
        assert!(matches!(
            compose("a: !!int x\n", "t.yml"),
            Err(CitoolError::BadTaggedScalar { .. })
        ));
        assert!(matches!(
            compose("a: 99999999999999999999\n", "t.yml"),
            Err(CitoolError::IntegerOutOfRange { .. })
        ));
    }

    #[test]
    fn complex_keys_rejected() {
        assert!(matches!(
            compose("? [a]\n: 1\n", "t.yml"),
            Err(CitoolError::NonScalarKey { .. })
        ));
    }
}

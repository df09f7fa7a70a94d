//! Guards on the text of a configuration, checked before a parser sees it: how large a
//! file is, how deeply its values nest, and which YAML keys are given twice.
//!
//! The parsers behind figment are not built for hostile or careless input: libyaml
//! takes time in the square of the nesting of flow collections (200 KB of brackets took
//! 23 s), figment's parser of environment values recurses once per bracket until the
//! stack overflows, and serde keeps the last of two equal YAML keys without a word. The
//! checks here take time in proportion to the text and stop at the first level too deep.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use saphyr_parser::{Event, Parser};

use super::walk::Walk;
use super::{child, index};

/// The largest configuration file read: 1 MiB holds tens of thousands of pool IDs.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// The deepest nesting of mappings and lists accepted. Real configurations nest a few
/// levels (`targets[0].user_pools[0]` is four); 64 leaves room for any sane use.
pub const MAX_DEPTH: usize = 64;

impl Walk {
    /// The text of the configuration file at `path`, or `None` after recording why not:
    /// it cannot be read, is not UTF-8, or holds more than [`MAX_FILE_BYTES`] (read no
    /// further than that, so a device or a pipe named by mistake cannot fill memory).
    pub fn read_file(&mut self, path: &Path) -> Option<String> {
        let mut bytes = Vec::new();
        let read = std::fs::File::open(path)
            .and_then(|file| file.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes));
        if let Err(e) = read {
            self.report_file(format!("cannot read the file: {e}"));
            return None;
        }
        if bytes.len() > MAX_FILE_BYTES {
            self.report_file(format!(
                "the file is larger than the limit of {} MiB",
                MAX_FILE_BYTES >> 20
            ));
            return None;
        }
        // Through `io::read_to_string`, so a file that is not UTF-8 is told exactly as
        // `fs::read_to_string` tells it.
        std::io::read_to_string(bytes.as_slice())
            .map_err(|e| self.report_file(format!("cannot read the file: {e}")))
            .ok()
    }

    /// Checks YAML text before it is parsed: nesting deeper than [`MAX_DEPTH`] is a
    /// problem of the whole file (and the only one reported), and each key given twice in
    /// one mapping a problem at its path, naming both lines (`poll.interval: duplicate
    /// key (lines 3 and 7)`). Returns whether nothing was found wrong.
    ///
    /// Text that does not parse as YAML here is left for the real parser to report, with
    /// its own message; only its nesting is checked, by brackets.
    pub fn yaml_text(&mut self, text: &str) -> bool {
        match scan_yaml(text) {
            Ok(Scan::TooDeep { line }) => {
                self.report_file(too_deep(Some(line)));
                false
            }
            Ok(Scan::Keys(duplicates)) => {
                let clean = duplicates.is_empty();
                for d in duplicates {
                    self.report(
                        d.key,
                        format!("duplicate key (lines {} and {})", d.first, d.again),
                    );
                }
                clean
            }
            Err(()) => match yaml_bracket_depth(text) {
                Some(line) => {
                    self.report_file(too_deep(Some(line)));
                    false
                }
                None => true,
            },
        }
    }

    /// Checks a value written in figment's own syntax (an environment variable's, such
    /// as `[{region = "eu-west-1"}]`) before figment parses it: nesting deeper than
    /// [`MAX_DEPTH`] is a problem at `key`. Returns whether it nests within the limit.
    pub fn figment_text(&mut self, key: &str, text: &str) -> bool {
        if figment_depth_exceeded(text) {
            self.report(key, too_deep(None));
            false
        } else {
            true
        }
    }
}

fn too_deep(line: Option<usize>) -> String {
    match line {
        Some(line) => format!("nested more than {MAX_DEPTH} levels deep (line {line})"),
        None => format!("nested more than {MAX_DEPTH} levels deep"),
    }
}

/// What a scan of YAML events found.
enum Scan {
    /// A collection opened past [`MAX_DEPTH`], on this line; the scan stopped there.
    TooDeep { line: usize },
    /// The keys given twice, in the order of their second appearance.
    Keys(Vec<Duplicate>),
}

struct Duplicate {
    key: String,
    first: usize,
    again: usize,
}

/// An open collection, with the key path of its node.
enum Frame {
    Mapping {
        path: String,
        /// The line of each key so far.
        lines: HashMap<String, usize>,
        /// `None` while a key is expected; then the key whose value comes next (`None`
        /// for a key that is not a scalar, which serde cannot read as text anyway).
        key: Option<Option<String>>,
    },
    Sequence {
        path: String,
        next: usize,
    },
}

/// Walks the YAML events of `text` (every document of it) with their lines. `Err` when
/// the text is not YAML to this parser.
///
/// The parser is saphyr's, a YAML 1.2 parser in safe Rust that gives the line of every
/// event; its flow nesting is capped (255) and its look-ahead bounded, so it runs in time
/// linear in the text. Keys are compared as text, as serde reads them: `1` and `"1"` are
/// the same key.
fn scan_yaml(text: &str) -> Result<Scan, ()> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut duplicates = Vec::new();
    let mut parser = Parser::new_from_str(text);
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|_| ())?;
        let line = span.start.line();
        match event {
            Event::DocumentStart(_) => stack.clear(),
            Event::StreamEnd => break,
            Event::Scalar(value, ..) => {
                if let Some(Frame::Mapping {
                    path,
                    lines,
                    key: key @ None,
                }) = stack.last_mut()
                {
                    if let Some(&first) = lines.get(value.as_ref()) {
                        duplicates.push(Duplicate {
                            key: child(path, &value),
                            first,
                            again: line,
                        });
                    } else {
                        lines.insert(value.to_string(), line);
                    }
                    *key = Some(Some(value.into_owned()));
                } else {
                    node_done(&mut stack);
                }
            }
            Event::Alias(_) => node_done(&mut stack),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                if stack.len() == MAX_DEPTH {
                    return Ok(Scan::TooDeep { line });
                }
                let path = node_path(stack.last());
                stack.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Mapping {
                        path,
                        lines: HashMap::new(),
                        key: None,
                    }
                } else {
                    Frame::Sequence { path, next: 0 }
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                node_done(&mut stack);
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
    }
    Ok(Scan::Keys(duplicates))
}

/// The key path of a node that starts inside `parent`.
fn node_path(parent: Option<&Frame>) -> String {
    match parent {
        None => String::new(),
        Some(Frame::Mapping {
            path,
            key: Some(Some(key)),
            ..
        }) => child(path, key),
        // A collection used as a key, or the value of one.
        Some(Frame::Mapping { path, .. }) => child(path, "?"),
        Some(Frame::Sequence { path, next }) => index(path, *next),
    }
}

/// A node ended inside the innermost open collection: a mapping then expects the value
/// of a key that was not a scalar, or its next key; a sequence its next item.
fn node_done(stack: &mut [Frame]) {
    match stack.last_mut() {
        Some(Frame::Mapping { key, .. }) => {
            *key = match key {
                None => Some(None),
                Some(_) => None,
            }
        }
        Some(Frame::Sequence { next, .. }) => *next += 1,
        None => {}
    }
}

/// For YAML that the event parser refused (the real parser may still accept it): the
/// line where flow brackets first open deeper than [`MAX_DEPTH`]. Brackets are counted
/// outside quoted scalars, recognised where a scalar may start (at the start of a line,
/// after `: `, `- `, `? `, `[`, `{` or `,`) and ended at the end of their line at the
/// latest; everything else counts, comments and plain scalars included, so this errs
/// toward a deeper count.
fn yaml_bracket_depth(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (number, line) in text.lines().enumerate() {
        // The last character that was not blank, and the one just before this one.
        let mut last: Option<char> = None;
        let mut previous = ' ';
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            let scalar_starts = matches!(previous, '[' | '{' | ',')
                || (previous.is_whitespace()
                    && matches!(last, None | Some(':' | '-' | '?' | '[' | '{' | ',')));
            match c {
                '"' | '\'' if scalar_starts => {
                    let mut escaped = false;
                    for inner in chars.by_ref() {
                        match (escaped, inner) {
                            (true, _) => escaped = false,
                            (false, '\\') if c == '"' => escaped = true,
                            (false, q) if q == c => break,
                            _ => {}
                        }
                    }
                }
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Some(number + 1);
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
            if !c.is_whitespace() {
                last = Some(c);
            }
            previous = c;
        }
    }
    None
}

/// Where figment's value parser is in a value, for [`figment_depth_exceeded`].
#[derive(Clone, Copy, PartialEq)]
enum At {
    /// Where a value starts (after `[`, `,` in a list, `=` in a mapping).
    Value,
    /// Where a key starts (after `{`, `,` in a mapping).
    Key,
    /// After a key: `=` comes next.
    AfterKey,
    /// Inside a bare word (a number, `true`, unquoted text): it ends at `,{}[]`.
    Bare,
    /// After an item: `,` or a closing bracket comes next.
    AfterItem,
}

/// Whether figment's parser of values, reading `text`, would open brackets deeper than
/// [`MAX_DEPTH`]. It follows that parser's grammar (figment's `value/parse.rs`): strings
/// are double-quoted with backslash escapes and open only where a key or value starts,
/// `'c'` is one character, a bare word ends at `,{}[]`, a mapping is `{key = value, …}`.
/// Where the grammar fails figment gives up (the text is then a plain string), so the
/// scan stops there too.
fn figment_depth_exceeded(text: &str) -> bool {
    // `true` for a mapping, `false` for a list.
    let mut open: Vec<bool> = Vec::new();
    let mut at = At::Value;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_whitespace() && at != At::Bare {
            continue;
        }
        at = match (at, c) {
            (At::Value | At::Key, '"') => {
                let mut escaped = false;
                for inner in chars.by_ref() {
                    match (escaped, inner) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => {}
                    }
                }
                if at == At::Key {
                    At::AfterKey
                } else {
                    At::AfterItem
                }
            }
            (At::Value, '\'') => {
                chars.next();
                if chars.next() != Some('\'') {
                    return false;
                }
                At::AfterItem
            }
            (At::Value, '[' | '{') => {
                if open.len() == MAX_DEPTH {
                    return true;
                }
                open.push(c == '{');
                if c == '{' { At::Key } else { At::Value }
            }
            // An empty collection, or the end of one after its last item.
            (At::Value | At::Key | At::Bare | At::AfterItem, ']' | '}') => {
                if open.pop() != Some(c == '}') {
                    return false;
                }
                At::AfterItem
            }
            // A separator where a value starts ends an empty bare word.
            (At::Value | At::Bare | At::AfterItem, ',') => match open.last() {
                Some(true) => At::Key,
                Some(false) => At::Value,
                None => return false,
            },
            (At::Bare, '[' | '{') | (At::AfterItem, _) => return false,
            (At::Key, c) if c.is_ascii_alphanumeric() || c == '_' || c == '-' => {
                while chars
                    .next_if(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .is_some()
                {}
                At::AfterKey
            }
            (At::Key, _) => return false,
            (At::AfterKey, '=') => At::Value,
            (At::AfterKey, _) => return false,
            (At::Value | At::Bare, _) => At::Bare,
        };
        if open.is_empty() && at == At::AfterItem {
            // The whole value is read; figment reads nothing after it.
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests;

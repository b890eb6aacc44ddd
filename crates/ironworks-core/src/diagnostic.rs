//! Positioned error messages for configuration files: what is wrong, where
//! (file:line:column, with the offending line), and what to do.

use std::fmt;
use std::ops::Range;

/// One problem found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based line and column of the start of the offending text, when known.
    pub position: Option<(usize, usize)>,
    pub message: String,
    /// The offending source line, for display.
    pub snippet: Option<String>,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic pointing at a byte range of `source`.
    pub fn at(
        file: &str,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Self {
        let (position, snippet) = match span {
            Some(span) => {
                let (line, column) = line_column(source, span.start);
                let text = source.lines().nth(line - 1).unwrap_or("").to_owned();
                (Some((line, column)), Some(text))
            }
            None => (None, None),
        };
        Diagnostic {
            file: file.to_owned(),
            position,
            message: message.into(),
            snippet,
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// `file:line:column`, or just the file when there is no position.
    pub fn location(&self) -> String {
        match self.position {
            Some((line, column)) => format!("{}:{line}:{column}", self.file),
            None => self.file.clone(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location(), self.message)?;
        if let (Some(snippet), Some((line, column))) = (&self.snippet, self.position) {
            let gutter = line.to_string().len();
            write!(
                f,
                "\n{:gutter$} |\n{line} | {snippet}\n{:gutter$} | {:>column$}",
                "", "", "^"
            )?;
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found in one file, in source order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{diagnostic}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let source = "a = 1\nbé = 2\n";
        assert_eq!(line_column(source, 0), (1, 1));
        assert_eq!(line_column(source, 6), (2, 1));
        // 'é' is two bytes; the '=' after it is the 4th character of line 2.
        let eq = source.rfind('=').unwrap();
        assert_eq!(line_column(source, eq), (2, 4));
    }

    #[test]
    fn display_points_at_the_column() {
        let source = "[project]\nid = 7\n";
        let d = Diagnostic::at("x.toml", source, Some(15..16), "expected a string")
            .with_help("write id = \"name\"");
        let text = d.to_string();
        assert!(text.starts_with("x.toml:2:6: expected a string"), "{text}");
        assert!(text.contains("2 | id = 7\n  |      ^"), "{text}");
        assert!(text.ends_with("help: write id = \"name\""), "{text}");
    }
}

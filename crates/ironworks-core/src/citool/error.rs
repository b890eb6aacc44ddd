//! Everything that can go wrong between a jobs file and a job matrix.
//!
//! Every variant says what went wrong and where (file:line:column when there
//! is a position); [`CitoolError::help`] says what to do about it.

use std::fmt;

/// A 1-based line and column in the jobs file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pos {
    pub line: usize,
    pub column: usize,
}

/// A position in a named file, displayed as `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub pos: Pos,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.pos.line, self.pos.column)
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[non_exhaustive]
pub enum CitoolError {
    #[error("{at}: invalid YAML: {message}")]
    Yaml { at: Location, message: String },
    #[error("{at}: unknown anchor `*{name}`: no `&{name}` is defined before this alias")]
    UnknownAnchor { at: Location, name: String },
    #[error("{at}: cyclic merge: `*{name}` refers to the node that contains it")]
    CyclicAlias { at: Location, name: String },
    #[error("{at}: aliases expand to more than {limit} nodes")]
    AliasBudget { at: Location, limit: usize },
    #[error("{at}: `<<` must merge a mapping or a list of mappings, found {found}")]
    InvalidMerge { at: Location, found: &'static str },
    #[error("{at}: duplicate key `{key}` (first at line {first_line})")]
    DuplicateKey {
        at: Location,
        key: String,
        first_line: usize,
    },
    #[error("{at}: mapping keys must be scalars, found {found}")]
    NonScalarKey { at: Location, found: &'static str },
    #[error("{at}: unsupported tag `{tag}`")]
    UnsupportedTag { at: Location, tag: String },
    #[error("{at}: `{text}` is not a valid {kind}")]
    BadTaggedScalar {
        at: Location,
        text: String,
        kind: &'static str,
    },
    #[error("{at}: integer `{text}` does not fit in 64 bits")]
    IntegerOutOfRange { at: Location, text: String },
    #[error("{file}: the jobs file holds no YAML document")]
    Empty { file: String },
    #[error("{at}: the jobs file holds more than one YAML document")]
    MultipleDocuments { at: Location },
    #[error("{at}: {what}: expected {expected}, found {found}")]
    WrongType {
        at: Location,
        what: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{at}: {what}: unknown key `{key}` (expected one of: {expected})")]
    UnknownKey {
        at: Location,
        what: String,
        key: String,
        expected: String,
    },
    #[error("{at}: {what}: missing required key `{key}`")]
    MissingKey {
        at: Location,
        what: String,
        key: &'static str,
    },
    #[error("{at}: env `{key}`: {problem}")]
    BadEnvValue {
        at: Location,
        key: String,
        problem: &'static str,
    },
    #[error(
        "{at}: duplicate job name `{name}` in section `{section}` (first at line {first_line})"
    )]
    DuplicateJob {
        at: Location,
        section: &'static str,
        name: String,
        first_line: usize,
    },
    #[error(
        "{at}: PR job `{name}` differs from its auto job (at line {auto_line}) in `{field}`: {pr_value} in `pr`, {auto_value} in `auto`"
    )]
    PrAutoMismatch {
        at: Location,
        name: String,
        field: &'static str,
        auto_line: usize,
        pr_value: Box<str>,
        auto_value: Box<str>,
    },
    #[error("{at}: auto job `{name}` has `continue_on_error: true`")]
    AutoContinueOnError { at: Location, name: String },
    #[error("environment variable `{name}` is not set (needed {needed_for})")]
    MissingEnvVar {
        name: &'static str,
        needed_for: &'static str,
    },
    #[error("cannot tell the run type from GITHUB_EVENT_NAME=`{event}` and GITHUB_REF=`{git_ref}`")]
    UnknownRunType { event: String, git_ref: String },
    #[error("try-job pattern `{pattern}` is not a valid glob: {reason}")]
    InvalidPattern { pattern: String, reason: String },
    #[error("try-job pattern(s) {} did not match any auto or optional job", quoted(.patterns))]
    UnmatchedPatterns { patterns: Vec<String> },
    #[error(
        "{count} jobs expanded from {patterns} try-job pattern(s); at most {max} custom try jobs can run at once"
    )]
    TooManyTryJobs {
        count: usize,
        patterns: usize,
        max: usize,
    },
    #[error("the computed {run_type} job list is empty")]
    EmptyMatrix {
        run_type: &'static str,
        channel: String,
    },
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|p| format!("`{p}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl CitoolError {
    /// What the user can do about it.
    pub fn help(&self) -> String {
        use CitoolError::*;
        match self {
            Yaml { .. } => "fix the YAML syntax at that position".into(),
            UnknownAnchor { name, .. } => format!(
                "define the anchor with `&{name}` on a node above this line, or fix the alias name"
            ),
            CyclicAlias { name, .. } => format!(
                "an anchored node cannot merge or alias itself: move the `&{name}` node out, or merge a different anchor"
            ),
            AliasBudget { .. } => {
                "the aliases nest too deeply; write the repeated part out or merge fewer times".into()
            }
            InvalidMerge { .. } => {
                "write `<<: *anchor` or `<<: [*a, *b]` where each anchor names a mapping".into()
            }
            DuplicateKey { .. } => "keep one of the two keys".into(),
            NonScalarKey { .. } => "use a plain string as the key".into(),
            UnsupportedTag { .. } => {
                "remove the tag; only the core tags !!str, !!int, !!float, !!bool and !!null are understood".into()
            }
            BadTaggedScalar { .. } => "fix the value or remove the tag".into(),
            IntegerOutOfRange { .. } => "quote the value to keep it as a string".into(),
            Empty { .. } => {
                "the file needs the keys `envs`, `pr`, `try`, `auto` and `optional`".into()
            }
            MultipleDocuments { .. } => "keep one document: remove the extra `---`".into(),
            WrongType { expected, .. } => {
                format!("write {expected} there (quote a value to make it a string)")
            }
            UnknownKey { expected, .. } => {
                format!("remove or rename the key; allowed here: {expected}")
            }
            MissingKey { key, .. } if *key == "env" => {
                "add `env: {}` to the job, or merge a runner that has one".into()
            }
            MissingKey { key, .. } => format!("add `{key}:` (it may be empty)"),
            BadEnvValue { .. } => {
                "env values must be strings, numbers, booleans or null; quote the value".into()
            }
            DuplicateJob { section, .. } => {
                format!("rename or remove one of the two jobs in `{section}`")
            }
            PrAutoMismatch { field, .. } => format!(
                "a PR job and the auto job of the same name may differ only in `env` and `continue_on_error`; make `{field}` agree"
            ),
            AutoContinueOnError { .. } => {
                "auto jobs gate the merge and must fail fast: remove `continue_on_error: true` (PR jobs may keep it)".into()
            }
            MissingEnvVar { name, .. } => {
                format!("set `{name}` (GitHub Actions sets it for workflow runs)")
            }
            UnknownRunType { .. } => "run on `pull_request`, or on `push` to refs/heads/auto, refs/heads/try, refs/heads/try-perf, refs/heads/automation/bors/try or refs/heads/master".into(),
            InvalidPattern { .. } => {
                "fix the pattern in the `try-job:` line of the commit message".into()
            }
            UnmatchedPatterns { .. } => {
                "use the name of a job in `auto` or `optional`, or a glob such as `dist-*` that matches one".into()
            }
            TooManyTryJobs { max, .. } => format!(
                "narrow the `try-job:` patterns so that at most {max} jobs match"
            ),
            EmptyMatrix { channel, .. } => format!(
                "add a job to the section, or check `only_on_channel` against the channel `{channel}`"
            ),
        }
    }
}

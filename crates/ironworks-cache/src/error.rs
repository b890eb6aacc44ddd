//! What can go wrong with a fixture, said so a maintainer knows which fixture,
//! which source or path, and what was expected.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A fixture could not be made available; nothing that uses it may run.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The cache directory itself is unusable (cannot create, write, rename).
    #[error("fixture `{id}`: cannot write the fixture cache at {}: {source}", path.display())]
    Cache {
        id: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// A cached entry no longer matches its declaration. It was removed, so
    /// the next fetch downloads it again.
    #[error(
        "fixture `{id}`: cached file {} failed verification: expected sha256 {expected}, actual {actual}; the entry was removed, fetch again",
        path.display()
    )]
    CorruptEntry {
        id: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },

    /// The cached entry has the wrong size (truncated or appended to). It was
    /// removed.
    #[error(
        "fixture `{id}`: cached file {} failed verification: expected {expected} bytes, actual {actual} bytes; the entry was removed, fetch again",
        path.display()
    )]
    CorruptEntrySize {
        id: String,
        path: PathBuf,
        expected: u64,
        actual: u64,
    },

    /// Every source was tried and none gave the declared bytes.
    #[error("fixture `{id}`: no source could be fetched:{}", AttemptList(attempts))]
    Unavailable {
        id: String,
        attempts: Vec<SourceFailure>,
    },

    /// Reading a cached or source file failed.
    #[error("fixture `{id}`: cannot read {}: {source}", path.display())]
    Read {
        id: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// An archive entry would land outside the run directory, or is of a kind
    /// a fixture may not contain. Nothing was unpacked.
    #[error("fixture `{id}`: refusing to unpack archive entry `{entry}`: {why}")]
    UnsafeEntry {
        id: String,
        entry: String,
        why: String,
    },

    /// The archive is malformed (bad tar header, bad zstd frame).
    #[error("fixture `{id}`: cannot read archive {}: {source}", path.display())]
    Archive {
        id: String,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Writing the unpacked tree failed (for example, the disk is full).
    /// Nothing was left behind at the destination.
    #[error("fixture `{id}`: cannot unpack into {}: {source}", dest.display())]
    Unpack {
        id: String,
        dest: PathBuf,
        #[source]
        source: io::Error,
    },

    /// Runs unpack into a fresh directory; an existing one is never reused.
    #[error("fixture `{id}`: destination {} already exists; each run unpacks into a fresh directory", dest.display())]
    DestinationExists { id: String, dest: PathBuf },
}

impl FixtureError {
    /// The fixture this error is about.
    pub fn fixture_id(&self) -> &str {
        match self {
            FixtureError::Cache { id, .. }
            | FixtureError::CorruptEntry { id, .. }
            | FixtureError::CorruptEntrySize { id, .. }
            | FixtureError::Unavailable { id, .. }
            | FixtureError::Read { id, .. }
            | FixtureError::UnsafeEntry { id, .. }
            | FixtureError::Archive { id, .. }
            | FixtureError::Unpack { id, .. }
            | FixtureError::DestinationExists { id, .. } => id,
        }
    }
}

/// Why one source URL did not yield the fixture.
#[derive(Debug)]
pub struct SourceFailure {
    pub url: String,
    /// How many times it was tried (retries included).
    pub tries: u32,
    pub error: SourceError,
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("sha256 mismatch: expected {expected}, actual {actual}")]
    Digest { expected: String, actual: String },
    #[error("size mismatch: expected {expected} bytes, actual {actual} bytes")]
    Size { expected: u64, actual: u64 },
    #[error("size mismatch: expected {expected} bytes, the source has more")]
    TooLarge { expected: u64 },
    #[error("http status {0}")]
    Status(u16),
    #[error("{0}")]
    Transport(String),
    #[error("{0}")]
    Io(#[source] io::Error),
    #[error("{0}")]
    Invalid(String),
    #[error("https is not supported by this build (the `https` feature of ironworks-cache is off)")]
    HttpsDisabled,
}

struct AttemptList<'a>(&'a [SourceFailure]);

impl fmt::Display for AttemptList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for attempt in self.0 {
            let tries = if attempt.tries == 1 {
                String::new()
            } else {
                format!(" (after {} tries)", attempt.tries)
            };
            write!(f, "\n  {}: {}{tries}", attempt.url, attempt.error)?;
        }
        Ok(())
    }
}

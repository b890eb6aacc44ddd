//! The one error type of the CLI: what went wrong, what to do, and which
//! exit code it maps to.

use std::fmt;

use crate::exit;

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub help: Option<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: exit::USAGE,
            message: message.into(),
            help: None,
        }
    }

    pub fn environment(message: impl Into<String>) -> Self {
        Failure {
            code: exit::ENVIRONMENT,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// The whole chain of an error's sources, as "a: b: c".
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl From<ironworks_git::GitError> for Failure {
    fn from(err: ironworks_git::GitError) -> Self {
        use ironworks_git::GitError::*;
        match &err {
            SourceMissing(_) => Failure::usage(chain(&err))
                .help("pass --source PATH of a git repository, or set `source` in the adapter's [project]"),
            NotARepository(_) => Failure::usage(chain(&err))
                .help("--source must be a git repository (run `git init` there, or point at the right directory)"),
            UnknownRevision { .. } => Failure::usage(chain(&err))
                .help("pass --rev with a branch, tag or commit id that exists in the source"),
            NotInstalled => Failure::environment(chain(&err)).help("install git (apt-get install git)"),
            RefMoved { .. } => Failure::environment(chain(&err))
                .help("a branch Ironworks manages was moved by someone else; Ironworks never force-pushes: reconcile it by hand, then rerun"),
            Failed { .. } | Io { .. } => Failure::environment(chain(&err)),
        }
    }
}

impl From<ironworks_store::StoreError> for Failure {
    fn from(err: ironworks_store::StoreError) -> Self {
        Failure::environment(chain(&err))
    }
}

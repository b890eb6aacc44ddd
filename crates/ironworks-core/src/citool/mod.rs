//! rust-lang CI parity: reading a rust-lang-style `jobs.yml` and computing
//! the GitHub Actions job matrix exactly as rust-lang's `citool
//! calculate-job-matrix` does (see `docs/rust-ci.md`).
//!
//! Owns: YAML composition with anchors and `<<` merges ([`yaml`]), the typed
//! jobs file and its rules ([`jobs`]), and the run type and matrix
//! ([`matrix`]). No IO: the caller passes the file text, the GitHub
//! variables and the release channel.

pub mod error;
pub mod jobs;
pub mod matrix;
pub mod yaml;

pub use error::{CitoolError, Location, Pos};
pub use jobs::{Env, EnvValue, Job, JobsFile, RunEnvs, Section};
pub use matrix::{GithubContext, MAX_TRY_JOBS, Matrix, MatrixJob, RunType};

/// The channel used when none is given and no channel file is found.
pub const DEFAULT_CHANNEL: &str = "nightly";

/// The whole `calculate-job-matrix`: the run type from `ctx`, the jobs file
/// `text` (named `file` in messages) loaded and validated, the matrix for
/// `channel`, rendered as the `jobs=` and `run_type=` lines.
pub fn calculate_job_matrix(
    text: &str,
    file: &str,
    ctx: &GithubContext,
    channel: &str,
) -> Result<String, CitoolError> {
    let run_type = ctx.run_type()?;
    let db = JobsFile::load(text, file)?;
    Ok(matrix::calculate(&db, run_type, ctx, channel)?.render())
}

#[cfg(test)]
mod tests;

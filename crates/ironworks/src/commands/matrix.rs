//! `ironworks matrix`: rust-lang's `calculate-job-matrix`, from a
//! rust-lang-style jobs file and the GitHub Actions environment.
//! The logic is `ironworks_core::citool`; this edge reads the file, the
//! environment and the channel, and prints the two lines.

use std::path::{Path, PathBuf};

use ironworks_core::citool::{self, CitoolError, GithubContext};

use crate::error::Failure;
use crate::exit;

#[derive(clap::Args, Debug)]
pub struct MatrixArgs {
    /// The rust-lang-style jobs file (e.g. src/ci/github-actions/jobs.yml).
    #[arg(long, value_name = "FILE")]
    pub jobs_file: PathBuf,
    /// Release channel for `only_on_channel`. Default: the name in the
    /// `channel` file of the directory above the jobs file's directory
    /// (rust-lang's src/ci/channel for src/ci/github-actions/jobs.yml), else
    /// `nightly`.
    #[arg(long, value_name = "NAME")]
    pub channel: Option<String>,
}

/// Print `jobs=[...]` and `run_type=...` for the run described by
/// GITHUB_EVENT_NAME, GITHUB_REF, COMMIT_MESSAGE, GITHUB_RUN_ID and
/// GITHUB_RUN_ATTEMPT.
pub fn matrix(args: &MatrixArgs) -> Result<u8, Failure> {
    let ctx = GithubContext {
        event_name: env_var("GITHUB_EVENT_NAME")?,
        git_ref: env_var("GITHUB_REF")?,
        commit_message: env_var("COMMIT_MESSAGE")?,
        run_id: env_var("GITHUB_RUN_ID")?,
        run_attempt: env_var("GITHUB_RUN_ATTEMPT")?,
    };
    let text = std::fs::read_to_string(&args.jobs_file).map_err(|e| {
        let message = format!("cannot read jobs file {}: {e}", args.jobs_file.display());
        match e.kind() {
            std::io::ErrorKind::NotFound => {
                Failure::usage(message).help("pass --jobs-file with the path of your jobs.yml")
            }
            _ => Failure::environment(message),
        }
    })?;
    let channel = match &args.channel {
        Some(channel) => channel.clone(),
        None => default_channel(&args.jobs_file)?,
    };
    let file = args.jobs_file.display().to_string();
    let output = citool::calculate_job_matrix(&text, &file, &ctx, &channel).map_err(failure)?;
    print!("{output}");
    Ok(exit::OK)
}

fn failure(err: CitoolError) -> Failure {
    let help = err.help();
    Failure::usage(err.to_string()).help(help)
}

fn env_var(name: &str) -> Result<Option<String>, Failure> {
    match std::env::var(name) {
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(Failure::usage(format!(
            "environment variable `{name}` is not valid UTF-8"
        ))
        .help(format!("set `{name}` to UTF-8 text"))),
    }
}

/// rust-lang keeps its channel in src/ci/channel, one directory above
/// src/ci/github-actions/jobs.yml. A team without that file gets `nightly`,
/// the channel of rust-lang's master branch.
fn default_channel(jobs_file: &Path) -> Result<String, Failure> {
    let absolute = std::path::absolute(jobs_file).unwrap_or_else(|_| jobs_file.to_path_buf());
    let Some(ci_dir) = absolute.parent().and_then(Path::parent) else {
        return Ok(citool::DEFAULT_CHANNEL.to_string());
    };
    let path = ci_dir.join("channel");
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let channel = text.trim();
            if channel.is_empty() || channel.contains(char::is_whitespace) {
                return Err(Failure::usage(format!(
                    "channel file {} must hold one channel name, found {:?}",
                    path.display(),
                    text
                ))
                .help("write `nightly`, `beta` or `stable` in it, or pass --channel NAME"));
            }
            Ok(channel.to_string())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(citool::DEFAULT_CHANNEL.to_string())
        }
        Err(e) => Err(Failure::environment(format!(
            "cannot read channel file {}: {e}",
            path.display()
        ))
        .help("fix its permissions, or pass --channel NAME")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_file_beside_the_ci_directory() {
        let dir = tempfile::tempdir().unwrap();
        let jobs = dir.path().join("github-actions/jobs.yml");
        std::fs::create_dir_all(jobs.parent().unwrap()).unwrap();
        assert_eq!(default_channel(&jobs).unwrap(), "nightly");
        std::fs::write(dir.path().join("channel"), "beta\n").unwrap();
        assert_eq!(default_channel(&jobs).unwrap(), "beta");
        std::fs::write(dir.path().join("channel"), "\n").unwrap();
        let err = default_channel(&jobs).unwrap_err();
        assert_eq!(err.code, exit::USAGE);
        assert!(err.message.contains("channel"), "{err}");
    }

    #[test]
    fn core_errors_become_usage_failures_with_help() {
        let err = failure(CitoolError::MissingEnvVar {
            name: "GITHUB_REF",
            needed_for: "to tell the run type",
        });
        assert_eq!(err.code, exit::USAGE);
        assert!(err.message.contains("GITHUB_REF"));
        assert!(err.help.unwrap().contains("GITHUB_REF"));
    }
}

//! From a jobs file and a GitHub Actions run to the job matrix.
//!
//! The run type comes from the event and the ref; a try build runs the
//! `try` jobs, or the auto/optional jobs its commit message names with
//! `try-job:` lines. The output is what rust-lang's `calculate-job-matrix`
//! prints: `jobs=<json>` and `run_type=<type>`.

use super::error::CitoolError;
use super::jobs::{Env, EnvValue, Job, JobsFile};

/// At most this many jobs may come out of `try-job:` patterns.
pub const MAX_TRY_JOBS: usize = 20;

/// The GitHub Actions variables the matrix depends on, as the caller found
/// them in its environment (`None` when unset).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GithubContext {
    /// `GITHUB_EVENT_NAME`
    pub event_name: Option<String>,
    /// `GITHUB_REF`
    pub git_ref: Option<String>,
    /// `COMMIT_MESSAGE`; required for `push` events.
    pub commit_message: Option<String>,
    /// `GITHUB_RUN_ID`; substituted for `$github.run_id` in `os`.
    pub run_id: Option<String>,
    /// `GITHUB_RUN_ATTEMPT`; substituted for `$github.run_attempt` in `os`.
    pub run_attempt: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunType {
    /// A push to a pull request.
    PullRequest,
    /// A try build: the `try` jobs when `patterns` is `None`, else the auto
    /// and optional jobs the patterns match.
    Try { patterns: Option<Vec<String>> },
    /// A merge attempt.
    Auto,
    /// A push to master: no jobs (rust-lang runs it only to share caches).
    Master,
}

impl RunType {
    pub fn as_str(&self) -> &'static str {
        match self {
            RunType::PullRequest => "pr",
            RunType::Try { .. } => "try",
            RunType::Auto => "auto",
            RunType::Master => "master",
        }
    }

    fn label(&self) -> &'static str {
        match self {
            RunType::PullRequest => "PR",
            RunType::Try { .. } => "try",
            RunType::Auto => "auto",
            RunType::Master => "master",
        }
    }
}

fn require<'a>(
    value: &'a Option<String>,
    name: &'static str,
    needed_for: &'static str,
) -> Result<&'a str, CitoolError> {
    value
        .as_deref()
        .ok_or(CitoolError::MissingEnvVar { name, needed_for })
}

impl GithubContext {
    /// Decide the run type; fails on a missing variable or an event/ref pair
    /// that is not a CI run.
    pub fn run_type(&self) -> Result<RunType, CitoolError> {
        let event = require(
            &self.event_name,
            "GITHUB_EVENT_NAME",
            "to tell the run type",
        )?;
        let git_ref = require(&self.git_ref, "GITHUB_REF", "to tell the run type")?;
        let message = if event == "push" {
            Some(require(
                &self.commit_message,
                "COMMIT_MESSAGE",
                "on push events, for `try-job:` lines",
            )?)
        } else {
            None
        };
        Ok(match (event, git_ref) {
            ("pull_request", _) => RunType::PullRequest,
            ("push", "refs/heads/try-perf") => RunType::Try { patterns: None },
            ("push", "refs/heads/try" | "refs/heads/automation/bors/try") => {
                let patterns = try_job_patterns(message.unwrap_or_default());
                RunType::Try {
                    patterns: (!patterns.is_empty()).then_some(patterns),
                }
            }
            ("push", "refs/heads/auto") => RunType::Auto,
            ("push", "refs/heads/master") => RunType::Master,
            _ => {
                return Err(CitoolError::UnknownRunType {
                    event: event.to_string(),
                    git_ref: git_ref.to_string(),
                });
            }
        })
    }
}

/// The patterns of `try-job: PATTERN` lines (leading/trailing whitespace of
/// the line ignored, the prefix exact including its space, backticks around
/// the pattern stripped so GitHub does not render globs as Markdown).
pub fn try_job_patterns(message: &str) -> Vec<String> {
    message
        .lines()
        .filter_map(|line| line.trim().strip_prefix("try-job: "))
        .map(|p| p.trim_matches('`').trim().to_string())
        .collect()
}

/// One entry of the `jobs=` list. Field order is the output's key order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MatrixJob {
    pub name: String,
    /// `<run type label> - <name>`, e.g. `PR - tidy`.
    pub full_name: String,
    pub os: String,
    pub env: Env,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub continue_on_error: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_disk: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codebuild: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    pub run_type: RunType,
    pub jobs: Vec<MatrixJob>,
}

impl Matrix {
    /// The two output lines, each ending in a newline.
    pub fn render(&self) -> String {
        // Only strings, integers, booleans, null and finite floats (checked
        // when the file was loaded) get here: serialization cannot fail.
        let jobs = serde_json::to_string(&self.jobs).expect("matrix jobs serialize to JSON");
        format!("jobs={jobs}\nrun_type={}\n", self.run_type.as_str())
    }
}

/// The auto jobs, then the optional ones, whose names match `pattern`.
fn matching_jobs<'a>(db: &'a JobsFile, pattern: &str) -> Result<Vec<&'a Job>, CitoolError> {
    let glob = glob::Pattern::new(pattern).map_err(|e| CitoolError::InvalidPattern {
        pattern: pattern.to_string(),
        reason: e.msg.to_string(),
    })?;
    Ok(db
        .auto
        .iter()
        .chain(&db.optional)
        .filter(|job| glob.matches(&job.name))
        .collect())
}

fn try_jobs<'a>(db: &'a JobsFile, patterns: &[String]) -> Result<Vec<&'a Job>, CitoolError> {
    let mut jobs: Vec<&Job> = Vec::new();
    let mut unmatched = Vec::new();
    for pattern in patterns {
        let matched = matching_jobs(db, pattern)?;
        if matched.is_empty() {
            unmatched.push(pattern.clone());
        }
        for job in matched {
            if !jobs.iter().any(|j| j.name == job.name) {
                jobs.push(job);
            }
        }
    }
    if !unmatched.is_empty() {
        return Err(CitoolError::UnmatchedPatterns {
            patterns: unmatched,
        });
    }
    if jobs.len() > MAX_TRY_JOBS {
        return Err(CitoolError::TooManyTryJobs {
            count: jobs.len(),
            patterns: patterns.len(),
            max: MAX_TRY_JOBS,
        });
    }
    Ok(jobs)
}

/// The job matrix of `run_type` on `channel`.
pub fn calculate(
    db: &JobsFile,
    run_type: RunType,
    ctx: &GithubContext,
    channel: &str,
) -> Result<Matrix, CitoolError> {
    let (jobs, base_env) = match &run_type {
        RunType::PullRequest => (db.pr.iter().collect(), &db.envs.pr),
        RunType::Try { patterns: None } => (db.try_.iter().collect(), &db.envs.try_),
        RunType::Try {
            patterns: Some(patterns),
        } => (try_jobs(db, patterns)?, &db.envs.try_),
        RunType::Auto => (db.auto.iter().collect::<Vec<_>>(), &db.envs.auto),
        RunType::Master => {
            return Ok(Matrix {
                run_type,
                jobs: Vec::new(),
            });
        }
    };
    let run_id = require(&ctx.run_id, "GITHUB_RUN_ID", "for `$github.run_id` in `os`")?;
    let run_attempt = require(
        &ctx.run_attempt,
        "GITHUB_RUN_ATTEMPT",
        "for `$github.run_attempt` in `os`",
    )?;
    // A default try build (benchmarks, crater, toolchain downloads) is told
    // to build faster by skipping some steps.
    let dist_try_build = matches!(run_type, RunType::Try { patterns: None });

    let jobs: Vec<MatrixJob> = jobs
        .into_iter()
        .filter(|job| {
            job.only_on_channel
                .as_deref()
                .is_none_or(|only| only == channel)
        })
        .map(|job| {
            let mut env = base_env.clone();
            env.extend(job.env.iter().map(|(k, v)| (k.clone(), v.clone())));
            if dist_try_build {
                env.insert("DIST_TRY_BUILD".to_string(), EnvValue::Int(1));
            }
            MatrixJob {
                name: job.name.clone(),
                full_name: format!("{} - {}", run_type.label(), job.name),
                os: job
                    .os
                    .replace("$github.run_id", run_id)
                    .replace("$github.run_attempt", run_attempt),
                env,
                continue_on_error: job.continue_on_error,
                free_disk: job.free_disk,
                doc_url: job.doc_url.clone(),
                codebuild: job.codebuild,
            }
        })
        .collect();
    if jobs.is_empty() {
        return Err(CitoolError::EmptyMatrix {
            run_type: run_type.as_str(),
            channel: channel.to_string(),
        });
    }
    Ok(Matrix { run_type, jobs })
}

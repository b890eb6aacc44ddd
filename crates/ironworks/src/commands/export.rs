//! `ironworks export github-matrix`: a stage's jobs (or try-style patterns)
//! as a GitHub Actions matrix whose entries run `ironworks run-local JOB`, so
//! the runners do exactly what `ironworks run` does locally.

use ironworks_core::Stage;
use ironworks_core::graph::StagePlan;
use ironworks_core::select::{self, MAX_SELECTED};
use serde::Serialize;

use crate::cli::Location;
use crate::context::load_adapter;
use crate::error::Failure;
use crate::exit;

/// One matrix entry (a stable shape: fields are added, never renamed).
#[derive(Debug, Serialize)]
struct Entry {
    name: String,
    stage: String,
    gate: String,
    #[serde(rename = "runs-on")]
    runs_on: String,
    /// Minutes, rounded up, for `timeout-minutes`.
    timeout_minutes: u64,
    /// The step to run; `continue-on-error` follows the gate.
    run: String,
    continue_on_error: bool,
}

#[derive(Debug, Serialize)]
struct Matrix {
    include: Vec<Entry>,
}

pub fn github_matrix(
    location: &Location,
    stage: Stage,
    patterns: Option<&str>,
    no_limit: bool,
    runs_on: &str,
    json: bool,
) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let adapter = &loaded.adapter;
    let jobs: Vec<ironworks_core::Job> = match patterns {
        Some(text) => {
            let patterns = select::split_patterns(text);
            let candidates = select::try_candidates(adapter);
            let chosen =
                select::select(&patterns, &candidates, (!no_limit).then_some(MAX_SELECTED))
                    .map_err(|err| Failure::usage(err.to_string()))?;
            // Jobs they need come along, as in `ironworks try`.
            StagePlan::selected(adapter, Stage::Forge, &chosen)
                .jobs
                .into_iter()
                .map(|p| p.job)
                .collect()
        }
        None => StagePlan::default_for(adapter, stage)
            .map_err(|err| {
                let help = err.help();
                Failure::usage(err.to_string()).help(help)
            })?
            .jobs
            .into_iter()
            .map(|p| p.job)
            .collect(),
    };
    let matrix = Matrix {
        include: jobs
            .into_iter()
            .map(|job| Entry {
                run: format!("ironworks run-local {} --rev \"$GITHUB_SHA\"", job.name),
                timeout_minutes: job.timeout.as_secs().div_ceil(60)
                    + job.grace.as_secs().div_ceil(60),
                continue_on_error: job.gate == ironworks_core::Gate::Observe,
                gate: job.gate.to_string(),
                stage: job.stage.to_string(),
                runs_on: runs_on.to_owned(),
                name: job.name,
            })
            .collect(),
    };
    if json {
        super::print_json(&matrix);
    } else {
        println!(
            "matrix={}",
            serde_json::to_string(&matrix).expect("serializes")
        );
    }
    Ok(exit::OK)
}

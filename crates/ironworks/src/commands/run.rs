use std::path::PathBuf;

use ironworks_core::Stage;
use ironworks_core::gate::RunStatus;

use crate::cli::Location;
use crate::context::{load_adapter, open_state, state_dir};
use crate::error::Failure;
use crate::exit;
use crate::progress::Progress;
use crate::runner::{RunRequest, run_stage};

pub fn default_parallelism() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

pub fn run(
    stage: Stage,
    location: &Location,
    source: Option<PathBuf>,
    rev: String,
    jobs: Option<usize>,
    keep_checkouts: bool,
    json: bool,
) -> Result<u8, Failure> {
    if jobs == Some(0) {
        return Err(Failure::usage("--jobs must be at least 1"));
    }
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let request = RunRequest {
        loaded: &loaded,
        stage,
        source,
        rev,
        parallel: jobs.unwrap_or_else(default_parallelism),
        state_dir: state.clone(),
        keep_checkouts,
    };
    let mut progress = Progress::new(json);
    let outcome = run_stage(&request, &mut store, &mut progress);
    progress.end();
    let outcome = outcome?;
    let detail = store
        .run(outcome.run_id)?
        .expect("a run that was just recorded exists");
    if json {
        super::print_json(&detail);
    } else {
        super::show::print_summary(&detail, &state);
    }
    Ok(exit_code(outcome.status))
}

pub fn exit_code(status: RunStatus) -> u8 {
    match status {
        RunStatus::Green => exit::OK,
        RunStatus::Red | RunStatus::Interrupted | RunStatus::Running => exit::RED,
        RunStatus::Cancelled => exit::CANCELLED,
    }
}

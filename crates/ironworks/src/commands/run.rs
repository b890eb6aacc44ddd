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

/// `ironworks run-local JOB`: one job, any stage, the exact argv, declared
/// environment, timeout and clean checkout CI uses; then its log.
pub fn run_local(
    name: &str,
    location: &Location,
    source: Option<PathBuf>,
    rev: String,
    keep_checkout: bool,
) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let adapter = &loaded.adapter;
    let job = adapter.job(name).ok_or_else(|| {
        let hint = adapter
            .suggest_job(name)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Failure::usage(format!(
            "no job `{name}` in {}{hint}",
            loaded.path.display()
        ))
        .help(format!(
            "the jobs are: {}",
            adapter
                .jobs
                .iter()
                .map(|j| j.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })?;
    let repo = crate::runner::source_repository(&loaded, source.as_deref())?;
    let commit = repo.resolve_commit(&rev)?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;

    // What CI runs, printed so it can be pasted: the environment the job
    // sees (Ironworks' own per-run variables aside) and the argv.
    let context = ironworks_core::env::RunContext {
        project: &adapter.project.id,
        stage: job.stage.as_str(),
        commit: &commit,
        run_id: 0,
        run_token: "-",
        tmpdir: "$TMPDIR",
    };
    let env = ironworks_core::env::job_environment(job, &context, |name| std::env::var(name).ok());
    let shown: Vec<String> = env
        .iter()
        .filter(|(k, _)| {
            !matches!(
                k.as_str(),
                "IRONWORKS_RUN_ID" | "IRONWORKS_RUN_TOKEN" | "TMPDIR"
            )
        })
        .map(|(k, v)| format!("{k}={}", shell_quote(v)))
        .collect();
    let argv: Vec<String> = job.command.argv().iter().map(|a| shell_quote(a)).collect();
    println!(
        "job `{}` ({}, {}) at {} ({rev}), in a clean checkout, timeout {}, grace {}:",
        job.name,
        job.stage,
        job.gate,
        &commit[..12],
        ironworks_core::duration::display(job.timeout),
        ironworks_core::duration::display(job.grace),
    );
    println!("  env -i {} {}", shown.join(" "), argv.join(" "));

    let plan = ironworks_core::graph::StagePlan {
        stage: job.stage,
        jobs: vec![ironworks_core::graph::PlannedJob {
            job: job.clone(),
            needs: Vec::new(),
        }],
    };
    let mut progress = Progress::new(false);
    let outcome = crate::runner::run_plan(
        &crate::runner::PlanRun {
            project: &adapter.project.id,
            plan,
            repo: &repo,
            commit,
            rev,
            purpose: "local",
            pr: None,
            parallel: 1,
            state_dir: &state,
            keep_checkouts: keep_checkout,
            sweep: true,
            toolstate: &adapter.toolstate,
        },
        &mut store,
        &mut progress,
    );
    progress.end();
    let outcome = outcome?;
    let detail = store.run(outcome.run_id)?.expect("just recorded");
    let record = &detail.jobs[0];
    if let Some(log) = &record.log {
        println!("--- log ({log}) ---");
        if let Ok(text) = std::fs::read(log) {
            print!("{}", String::from_utf8_lossy(&text));
        }
        println!("---");
    }
    println!(
        "{}: {}{}",
        job.name,
        record.status,
        record
            .reason
            .as_deref()
            .map(|r| format!(" — {r}"))
            .unwrap_or_default()
    );
    if keep_checkout {
        println!("checkout kept under {}", state.join("work").display());
    }
    Ok(exit_code(outcome.status))
}

/// Quote for a POSIX shell when needed.
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,@%+".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_quoting() {
        assert_eq!(super::shell_quote("make"), "make");
        assert_eq!(super::shell_quote("a b"), "'a b'");
        assert_eq!(super::shell_quote("it's"), "'it'\\''s'");
        assert_eq!(super::shell_quote(""), "''");
    }
}

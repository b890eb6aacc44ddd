use std::path::Path;

use ironworks_core::duration;
use ironworks_core::gate::JobStatus;
use ironworks_core::record::{RunDetail, RunId};

use crate::cli::Location;
use crate::context::{open_state, state_dir};
use crate::error::Failure;
use crate::exit;

fn ms(value: Option<i64>) -> String {
    value.map_or_else(
        || "-".to_owned(),
        |ms| duration::display(std::time::Duration::from_millis(ms.max(0) as u64)),
    )
}

pub fn runs(location: &Location, limit: usize, json: bool) -> Result<u8, Failure> {
    let state = state_dir(location.state_dir.as_deref(), location.adapter.as_deref())?;
    let store = open_state(&state)?;
    let runs = store.runs(None, limit)?;
    if json {
        super::print_json(&runs);
        return Ok(exit::OK);
    }
    if runs.is_empty() {
        println!("no runs recorded in {}", state.display());
        return Ok(exit::OK);
    }
    println!(
        "{:>5}  {:<16} {:<7} {:<12} {:<12} {:>9}  {:<24} {:>8}",
        "RUN", "PROJECT", "STAGE", "COMMIT", "STATUS", "PASSED", "STARTED", "DURATION"
    );
    for run in runs {
        println!(
            "{:>5}  {:<16} {:<7} {:<12} {:<12} {:>9}  {:<24} {:>8}",
            run.id.0,
            run.project,
            run.stage.as_str(),
            &run.commit[..12.min(run.commit.len())],
            run.status.as_str(),
            format!("{}/{}", run.jobs_passed, run.jobs_total),
            run.started_at.rfc3339(),
            ms(run.duration_ms),
        );
    }
    Ok(exit::OK)
}

pub fn show(run: i64, location: &Location, log: Option<&str>, json: bool) -> Result<u8, Failure> {
    let state = state_dir(location.state_dir.as_deref(), location.adapter.as_deref())?;
    let store = open_state(&state)?;
    let detail = store.run(RunId(run))?.ok_or_else(|| {
        Failure::usage(format!("no run {run} in {}", state.display()))
            .help("`ironworks runs` lists the recorded runs")
    })?;
    if json {
        super::print_json(&detail);
    } else {
        print_detail(&detail);
    }
    if let Some(job) = log {
        let record = detail.jobs.iter().find(|j| j.job == job).ok_or_else(|| {
            let names: Vec<&str> = detail.jobs.iter().map(|j| j.job.as_str()).collect();
            Failure::usage(format!("run {run} has no job `{job}`"))
                .help(format!("its jobs are: {}", names.join(", ")))
        })?;
        let path = record.log.as_deref().ok_or_else(|| {
            Failure::usage(format!(
                "job `{job}` of run {run} never started, so it has no log"
            ))
        })?;
        let text = std::fs::read(path)
            .map_err(|e| Failure::environment(format!("cannot read log {path}: {e}")))?;
        println!("--- log of {job} ({path}) ---");
        print!("{}", String::from_utf8_lossy(&text));
    }
    Ok(exit::OK)
}

pub fn print_detail(detail: &RunDetail) {
    let run = &detail.run;
    println!(
        "run {} · {} · {} · {} ({}) · {} · {}",
        run.id,
        run.project,
        run.stage,
        &run.commit[..12.min(run.commit.len())],
        run.rev,
        run.status,
        ms(run.duration_ms)
    );
    println!(
        "  source {}  started {}",
        run.source,
        run.started_at.rfc3339()
    );
    for job in &detail.jobs {
        println!(
            "  {:<12} {:<20} {:<9} {:>7}  {}",
            job.status.as_str(),
            job.job,
            job.gate.as_str(),
            ms(job.duration_ms),
            job.reason.as_deref().unwrap_or("")
        );
        if let Some(tests) = job.tests {
            println!(
                "  {:>12} tests: {} run, {} failed, {} skipped",
                "", tests.total, tests.failed, tests.skipped
            );
            for failure in &job.test_failures {
                match &failure.message {
                    Some(message) => {
                        println!("  {:>12}   failed: {} — {message}", "", failure.name)
                    }
                    None => println!("  {:>12}   failed: {}", "", failure.name),
                }
            }
        }
        for artifact in &job.artifacts {
            println!(
                "  {:>12} artifact: {} ({} bytes, sha256 {}) → {}",
                "",
                artifact.path,
                artifact.size,
                &artifact.sha256[..16],
                artifact.stored_at
            );
        }
        if let Some(log) = &job.log
            && job.status != JobStatus::Passed
        {
            println!("  {:>12} log: {log}", "");
        }
    }
}

/// The end of `ironworks run`: the verdict, and where to look.
pub fn print_summary(detail: &RunDetail, state: &Path) {
    let run = &detail.run;
    let count = |status: JobStatus| detail.jobs.iter().filter(|j| j.status == status).count();
    let failed: Vec<String> = detail
        .jobs
        .iter()
        .filter(|j| matches!(j.status, JobStatus::Failed | JobStatus::TimedOut))
        .map(|j| format!("{} ({})", j.job, j.gate))
        .collect();
    println!(
        "run {}: {} {} — {} passed, {} failed, {} skipped, {} cancelled in {}",
        run.id,
        run.stage,
        run.status.as_str().to_uppercase(),
        count(JobStatus::Passed),
        failed.len(),
        count(JobStatus::Skipped),
        count(JobStatus::Cancelled),
        ms(run.duration_ms)
    );
    if !failed.is_empty() {
        println!("failed: {}", failed.join(", "));
    }
    println!(
        "logs and artifacts: {}",
        crate::runner::run_dir(state, run.id).display()
    );
    println!("details: ironworks show {}", run.id);
}

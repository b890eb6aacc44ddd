//! `ironworks harden tick|run|status`.

use ironworks_core::adapter::Gate;
use ironworks_core::harden::Due;
use serde::Serialize;

use crate::cli::{HardenCommand, Location};
use crate::context::{load_adapter, now, open_state, state_dir};
use crate::error::Failure;
use crate::exit;
use crate::harden::{self, HardenReport};
use crate::host::{self, short};

#[derive(Debug, Serialize)]
struct Decision {
    job: String,
    #[serde(flatten)]
    due: Due,
    report: Option<HardenReport>,
}

pub fn dispatch(command: HardenCommand) -> Result<u8, Failure> {
    match command {
        HardenCommand::Tick { location, json } => tick(&location, None, None, false, json),
        HardenCommand::Run {
            location,
            job,
            snapshot,
            json,
        } => tick(&location, job.as_deref(), snapshot, true, json),
        HardenCommand::Status { location, json } => status(&location, json),
    }
}

fn tick(
    location: &Location,
    job: Option<&str>,
    snapshot: Option<i64>,
    forced: bool,
    json: bool,
) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let mut host = host::open(&loaded, &mut store, &state, None, json)?;
    let results = harden::tick(&mut host, job, snapshot, forced)?;
    let red_required = results.iter().any(|(_, _, report)| {
        report
            .as_ref()
            .is_some_and(|r| r.verdict == "red" && r.gate == Gate::Required)
    });
    if json {
        let decisions: Vec<Decision> = results
            .into_iter()
            .map(|(job, due, report)| Decision { job, due, report })
            .collect();
        super::print_json(&decisions);
    } else {
        for (job, due, report) in &results {
            match (due, report) {
                (_, Some(report)) => println!(
                    "{job:<20} {:<5} snapshot {} ({}), run {}{}",
                    report.verdict,
                    report.snapshot,
                    short(&report.commit),
                    report.run.map_or("-".to_owned(), |r| r.to_string()),
                    report
                        .reason
                        .as_deref()
                        .map(|r| format!(" — {r}"))
                        .unwrap_or_default()
                ),
                (Due::Skip { reason }, None) | (Due::Run { reason }, None) => {
                    println!("{job:<20} skipped: {reason}")
                }
            }
        }
    }
    Ok(if red_required { exit::RED } else { exit::OK })
}

#[derive(Debug, Serialize)]
struct JobStatus {
    job: String,
    kind: ironworks_core::adapter::HardenKind,
    gate: Gate,
    schedule: Option<String>,
    last: Option<ironworks_store::harden::HardenRunRecord>,
    age_hours: Option<f64>,
}

#[derive(Debug, Serialize)]
struct Status {
    /// healthy | unhealthy (a required harden job's latest run is red)
    health: String,
    newest_green_snapshot: Option<i64>,
    jobs: Vec<JobStatus>,
}

fn status(location: &Location, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let host = host::open(&loaded, &mut store, &state, None, true)?;
    let project = host.project().to_owned();
    let mut jobs = Vec::new();
    for job in harden::harden_jobs(&host, None)? {
        let last = host.store.last_harden_run(&project, &job.name)?;
        let age_hours = last
            .as_ref()
            .map(|l| ((now().0 - l.started_at.0) as f64 / 3_600_000.0 * 10.0).round() / 10.0);
        jobs.push(JobStatus {
            job: job.name.clone(),
            kind: job.harden.kind,
            gate: job.gate,
            schedule: job.harden.schedule.clone(),
            last,
            age_hours,
        });
    }
    let unhealthy = jobs
        .iter()
        .any(|j| j.gate == Gate::Required && j.last.as_ref().is_some_and(|l| l.verdict == "red"));
    let status = Status {
        health: if unhealthy { "unhealthy" } else { "healthy" }.into(),
        newest_green_snapshot: host.store.newest_green_snapshot(&project)?.map(|s| s.id),
        jobs,
    };
    if json {
        super::print_json(&status);
        return Ok(exit::OK);
    }
    println!(
        "project {project}: {} (newest forge-green snapshot: {})",
        status.health,
        status
            .newest_green_snapshot
            .map_or("none".into(), |s| s.to_string())
    );
    println!(
        "{:<20} {:<7} {:<9} {:<14} {:<8} {:<9} {:>9}",
        "JOB", "KIND", "GATE", "SCHEDULE", "VERDICT", "SNAPSHOT", "AGE"
    );
    for job in status.jobs {
        println!(
            "{:<20} {:<7} {:<9} {:<14} {:<8} {:<9} {:>9}",
            job.job,
            format!("{:?}", job.kind).to_lowercase(),
            job.gate.as_str(),
            job.schedule.as_deref().unwrap_or("-"),
            job.last.as_ref().map_or("never", |l| l.verdict.as_str()),
            job.last
                .as_ref()
                .map_or("-".into(), |l| l.snapshot.to_string()),
            job.age_hours.map_or("-".into(), |h| format!("{h}h")),
        );
    }
    Ok(exit::OK)
}

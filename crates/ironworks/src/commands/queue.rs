//! `ironworks queue run`, `snapshots`, `triage`, `try`.

use ironworks_core::Stage;
use ironworks_core::adapter::QueueMode;
use ironworks_core::gate::RunStatus;
use ironworks_core::graph::StagePlan;
use ironworks_core::select::{self, MAX_SELECTED};
use ironworks_git::merge::Merge;

use crate::cli::Location;
use crate::context::{load_adapter, now, open_state, state_dir};
use crate::error::Failure;
use crate::exit;
use crate::host::{self, short};

pub fn run(location: &Location, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let mut host = host::open(&loaded, &mut store, &state, None, json)?;
    let report = match loaded.adapter.queue.mode {
        QueueMode::PostMerge => host::run_post_merge(&mut host)?,
        QueueMode::Gated => host::run_gated(&mut host)?,
    };
    if json {
        super::print_json(&report);
    } else {
        let list = |prs: &[i64]| {
            if prs.is_empty() {
                "none".to_owned()
            } else {
                prs.iter()
                    .map(|p| format!("#{p}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        println!("queue ({}): merged {}", report.mode, list(&report.merged));
        if !report.conflicts.is_empty() {
            println!("conflicts: {}", list(&report.conflicts));
        }
        if !report.ejected.is_empty() {
            println!("ejected: {}", list(&report.ejected));
        }
        if !report.reverted.is_empty() {
            println!("reverted: {}", list(&report.reverted));
        }
        for note in &report.notes {
            println!("note: {note}");
        }
        if let Some(head) = &report.staging {
            println!(
                "staging: {} ({})",
                short(head),
                report.snapshot_status.as_deref().unwrap_or("no snapshot")
            );
        }
    }
    Ok(match report.snapshot_status.as_deref() {
        Some("red") => exit::RED,
        _ => exit::OK,
    })
}

pub fn snapshots(location: &Location, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let store = open_state(&state)?;
    let snapshots = store.snapshots(&loaded.adapter.project.id)?;
    if json {
        super::print_json(&snapshots);
        return Ok(exit::OK);
    }
    if snapshots.is_empty() {
        println!("no snapshots yet; `ironworks queue run` makes them");
    }
    for snapshot in snapshots {
        let prs: Vec<String> = snapshot
            .promotions
            .iter()
            .map(|p| {
                format!(
                    "#{}{}",
                    p.pr,
                    if p.state == "reverted" {
                        " (reverted)"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        println!(
            "{:>4}  {}  {:<8} forge run {:<6} {}{}",
            snapshot.id,
            short(&snapshot.commit),
            snapshot.status,
            snapshot.forge_run.map_or("-".to_owned(), |r| r.to_string()),
            if prs.is_empty() {
                String::new()
            } else {
                format!("promotes {}", prs.join(", "))
            },
            snapshot
                .note
                .map(|n| format!("  ({n})"))
                .unwrap_or_default()
        );
    }
    Ok(exit::OK)
}

pub fn triage(location: &Location, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let store = open_state(&state)?;
    let records = store.triage(&loaded.adapter.project.id)?;
    if json {
        super::print_json(&records);
        return Ok(exit::OK);
    }
    if records.is_empty() {
        println!("no triage records");
    }
    for record in records {
        println!(
            "{:>4}  {:<11} {}  {}{}",
            record.id,
            record.kind,
            record.created_at.rfc3339(),
            record.summary,
            if record.runs.is_empty() {
                String::new()
            } else {
                format!(
                    " [runs {}]",
                    record
                        .runs
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    Ok(exit::OK)
}

pub fn try_build(
    pr: i64,
    location: &Location,
    jobs: Option<&str>,
    no_limit: bool,
    json: bool,
) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let adapter = &loaded.adapter;
    let patterns = match jobs {
        Some(text) => select::split_patterns(text),
        None => adapter.try_builds.default.clone(),
    };
    let candidates = select::try_candidates(adapter);
    let selection = if patterns.is_empty() {
        adapter
            .jobs_in(Stage::Forge)
            .filter(|j| !j.optional)
            .collect::<Vec<_>>()
    } else {
        select::select(&patterns, &candidates, (!no_limit).then_some(MAX_SELECTED)).map_err(
            |err| {
                let help = match &err {
                    select::SelectError::TooMany { .. } => {
                        "narrow the patterns, or pass --no-limit".to_owned()
                    }
                    _ => format!(
                        "try jobs are the forge, harden and optional jobs: {}",
                        candidates
                            .iter()
                            .map(|j| j.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                Failure::usage(err.to_string()).help(help)
            },
        )?
    };
    if selection.is_empty() {
        return Err(Failure::usage(
            "no jobs to run: the adapter has no forge jobs and no [try] default",
        ));
    }
    let plan = StagePlan::selected(adapter, Stage::Forge, &selection);

    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let mut host = host::open(&loaded, &mut store, &state, None, json)?;
    let record = host.pr(pr)?;
    let record = host.refresh(&record)?;
    let staging = host.staging_head()?;
    // The try commit is the PR merged onto staging, on a scratch ref; staging
    // itself does not move.
    let commit = match host.repo.merge_tree(&staging, &record.head_sha, None)? {
        Merge::Conflict { paths } => {
            return Err(Failure::usage(format!(
                "PR #{pr} does not merge onto staging: conflicts in {}",
                paths.join(", ")
            )));
        }
        Merge::Clean { tree } => host.repo.commit_tree(
            &tree,
            &[&staging, &record.head_sha],
            &format!(
                "Try PR #{pr} on staging\n\nPR: {pr}\nHead: {}\n",
                record.head_sha
            ),
            (now().0 / 1000) as u64,
        )?,
    };
    let scratch = format!("refs/ironworks/try/{pr}");
    host.repo.delete_ref(&scratch)?;
    host.repo
        .update_ref(&scratch, &commit, None, "ironworks: try build")?;
    let (run, status) = host.run(plan, &commit, &format!("try #{pr}"), "try", Some(pr))?;
    let detail = host.store.run(run)?.expect("just recorded");
    if json {
        super::print_json(&detail);
    } else {
        super::show::print_summary(&detail, &state);
        println!(
            "try commit: {} ({scratch}); staging unchanged",
            short(&commit)
        );
    }
    Ok(if status == RunStatus::Green {
        exit::OK
    } else {
        exit::RED
    })
}

pub fn toolstate(location: &Location, limit: usize, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let store = open_state(&state)?;
    let project = &loaded.adapter.project.id;
    let history = store.toolstate_history(project, limit.max(1))?;
    let settings = &loaded.adapter.toolstate;
    let window = settings.window_release(now().0);
    if json {
        super::print_json(&serde_json::json!({
            "stable": settings.stable,
            "release_window": window.map(|d| ironworks_core::record::Timestamp(d).rfc3339()),
            "history": history,
        }));
        return Ok(exit::OK);
    }
    let components: Vec<&ironworks_core::Job> = loaded
        .adapter
        .jobs
        .iter()
        .filter(|j| j.toolstate.is_some())
        .collect();
    if components.is_empty() {
        println!("no toolstate components; mark a job with toolstate = \"NAME\"");
        return Ok(exit::OK);
    }
    match window {
        Some(date) => println!(
            "inside the release window of {}: regressions of stable components fail the gate",
            &ironworks_core::record::Timestamp(date).rfc3339()[..10]
        ),
        None => println!("outside any release window: regressions only warn"),
    }
    for job in components {
        let component = job.toolstate.as_deref().unwrap_or_default();
        let latest = store.last_toolstate(project, component)?;
        println!(
            "{component:<20} {:<11} {}  (job `{}`)",
            latest.as_deref().unwrap_or("-"),
            if settings.stable.iter().any(|s| s == component) {
                "stable"
            } else {
                "unstable"
            },
            job.name
        );
    }
    let changes: Vec<_> = history.iter().filter(|r| r.change.is_some()).collect();
    if !changes.is_empty() {
        println!("changes (newest first):");
        for record in changes {
            println!(
                "  {}  {}  {}",
                record.at.rfc3339(),
                short(&record.commit),
                record.change.as_deref().unwrap_or_default()
            );
        }
    }
    Ok(exit::OK)
}

//! `ironworks pr ...`: PR records in local host mode.

use ironworks_core::record::PrRecord;
use ironworks_store::queue::NewPr;

use crate::cli::{Location, PrCommand};
use crate::context::{load_adapter, now, open_state, state_dir};
use crate::error::Failure;
use crate::exit;
use crate::host::{self, short};

pub fn dispatch(command: PrCommand) -> Result<u8, Failure> {
    match command {
        PrCommand::Open {
            location,
            source,
            head,
            title,
            priority,
            rollup,
            target,
            no_spark,
            json,
        } => open(
            &location, source, head, title, priority, rollup, target, no_spark, json,
        ),
        PrCommand::Approve { pr, by, location } => change(&location, pr, |host, pr| {
            if !matches!(pr.state.as_str(), "open" | "conflict") {
                return Err(Failure::usage(format!(
                    "PR #{} is {}; only open PRs can be approved",
                    pr.id, pr.state
                )));
            }
            if by.trim().is_empty() {
                return Err(Failure::usage("--by must name who approves"));
            }
            host.store.pr_approve(pr.id, by.trim(), now())?;
            Ok(format!(
                "PR #{} approved by {} at head {}",
                pr.id,
                by.trim(),
                short(&pr.head_sha)
            ))
        }),
        PrCommand::Unapprove { pr, location } => change(&location, pr, |host, pr| {
            host.store.pr_unapprove(pr.id, now())?;
            Ok(format!("PR #{}: approval withdrawn", pr.id))
        }),
        PrCommand::Label {
            pr,
            label,
            remove,
            location,
        } => change(&location, pr, |host, pr| {
            let label = label.trim();
            if label.is_empty() {
                return Err(Failure::usage("a label must not be empty"));
            }
            host.store.pr_label(pr.id, label, !remove, now())?;
            Ok(format!(
                "PR #{}: label `{label}` {}",
                pr.id,
                if remove { "removed" } else { "added" }
            ))
        }),
        PrCommand::Sync { pr, location } => change(&location, pr, |host, pr| {
            let after = host.refresh(pr)?;
            Ok(format!(
                "PR #{}: head {} ({}), spark {}",
                after.id,
                short(&after.head_sha),
                after.state,
                spark_text(&after)
            ))
        }),
        PrCommand::List { location, json } => list(&location, json),
    }
}

#[allow(clippy::too_many_arguments)]
fn open(
    location: &Location,
    source: Option<std::path::PathBuf>,
    head: String,
    title: Option<String>,
    priority: i64,
    rollup: String,
    target: Option<String>,
    no_spark: bool,
    json: bool,
) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let mut host = host::open(&loaded, &mut store, &state, source.as_deref(), json)?;
    let head_sha = host.repo.resolve_commit(&head).map_err(|e| {
        Failure::from(e).help("--head must name a branch or commit of the source repository")
    })?;
    let target = target.unwrap_or_else(|| host.settings().target.clone());
    if target == host.settings().staging {
        return Err(Failure::usage(format!(
            "a PR cannot target the staging branch `{target}`; PRs reach it through the queue"
        )));
    }
    let id = host.store.insert_pr(&NewPr {
        project: host.project().to_owned(),
        title: title.unwrap_or_else(|| head.clone()),
        head_ref: head,
        head_sha,
        target,
        priority,
        rollup,
        at: now(),
    })?;
    let pr = host.pr(id)?;
    host.progress
        .note(&format!("opened PR #{id} at {}", short(&pr.head_sha)));
    if !no_spark {
        host.spark(&pr)?;
    }
    let pr = host.pr(id)?;
    if json {
        super::print_json(&pr);
    } else {
        println!("PR #{}: {} — spark {}", pr.id, pr.title, spark_text(&pr));
    }
    Ok(exit::OK)
}

fn change(
    location: &Location,
    id: i64,
    apply: impl FnOnce(&mut host::Host<'_>, &PrRecord) -> Result<String, Failure>,
) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let mut store = open_state(&state)?;
    let mut host = host::open(&loaded, &mut store, &state, None, false)?;
    let pr = host.pr(id)?;
    let message = apply(&mut host, &pr)?;
    println!("{message}");
    Ok(exit::OK)
}

fn spark_text(pr: &PrRecord) -> String {
    match (&pr.spark_sha, &pr.spark_status) {
        (Some(sha), Some(status)) if *sha == pr.head_sha => {
            format!("{status} (run {})", pr.spark_run.unwrap_or(0))
        }
        (Some(_), Some(_)) => "stale (an older head)".into(),
        _ => "not run".into(),
    }
}

fn list(location: &Location, json: bool) -> Result<u8, Failure> {
    let loaded = load_adapter(location.adapter.as_deref())?;
    let state = state_dir(location.state_dir.as_deref(), Some(&loaded.path))?;
    let store = open_state(&state)?;
    let prs = store.prs(&loaded.adapter.project.id)?;
    if json {
        super::print_json(&prs);
        return Ok(exit::OK);
    }
    if prs.is_empty() {
        println!("no PRs; `ironworks pr open --head BRANCH` records one");
        return Ok(exit::OK);
    }
    let ready = &loaded.adapter.queue.ready_label;
    println!(
        "{:>4}  {:<10} {:<12} {:>4} {:<7} {:<14} {:<22} {:<8} TITLE",
        "PR", "STATE", "HEAD", "PRIO", "ROLLUP", "APPROVED", "SPARK", "ELIGIBLE"
    );
    for pr in prs {
        println!(
            "{:>4}  {:<10} {:<12} {:>4} {:<7} {:<14} {:<22} {:<8} {}",
            pr.id,
            pr.state,
            short(&pr.head_sha),
            pr.priority,
            pr.rollup,
            pr.approved_by.as_deref().unwrap_or("-"),
            spark_text(&pr),
            if pr.eligible(ready) { "yes" } else { "no" },
            pr.title
        );
    }
    Ok(exit::OK)
}

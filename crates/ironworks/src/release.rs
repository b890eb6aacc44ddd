//! Releases: cut from forge-green snapshots, fixes landed only through
//! temper, and a proof that every commit on a release branch was vetted.

use std::collections::HashSet;

use ironworks_core::Stage;
use ironworks_core::gate::RunStatus;
use ironworks_store::release::ReleaseRecord;
use serde::Serialize;

use crate::context::now;
use crate::error::Failure;
use crate::host::{Host, branch_ref, short};

/// The branch of a release.
pub fn release_branch(version: &str) -> String {
    format!("release/{version}")
}

fn check_version(version: &str) -> Result<(), Failure> {
    let ok = !version.is_empty()
        && version.len() <= 64
        && version
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+'))
        && version.starts_with(|c: char| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Failure::usage(format!("`{version}` is not a release version"))
            .help("use letters, digits, `.`, `-`, `_`, `+`, starting with a letter or digit, e.g. 1.0.0"))
    }
}

fn release(host: &Host<'_>, version: &str) -> Result<ReleaseRecord, Failure> {
    host.store.release(host.project(), version)?.ok_or_else(|| {
        Failure::usage(format!(
            "no release {version} in project `{}`",
            host.project()
        ))
        .help("cut it with `ironworks release cut VERSION --snapshot ID`")
    })
}

/// `release cut`: `release/VERSION` at a forge-green snapshot.
pub fn cut(host: &mut Host<'_>, version: &str, snapshot_id: i64) -> Result<ReleaseRecord, Failure> {
    check_version(version)?;
    let project = host.project().to_owned();
    if host.store.release(&project, version)?.is_some() {
        return Err(
            Failure::usage(format!("release {version} was already cut")).help("cut a new version")
        );
    }
    let snapshot = host
        .store
        .snapshots(&project)?
        .into_iter()
        .find(|s| s.id == snapshot_id)
        .ok_or_else(|| {
            Failure::usage(format!("no snapshot {snapshot_id}"))
                .help("`ironworks snapshots` lists them")
        })?;
    if snapshot.status != "green" {
        return Err(Failure::usage(format!(
            "snapshot {snapshot_id} ({}) is {}: a release is cut only from a forge-green snapshot",
            short(&snapshot.commit),
            snapshot.status
        ))
        .help("`ironworks snapshots` shows which snapshots are green"));
    }
    let branch = release_branch(version);
    // Creating (never moving) the branch: it must not exist yet.
    host.repo
        .update_ref(
            &branch_ref(&branch),
            &snapshot.commit,
            None,
            &format!("ironworks: cut release {version}"),
        )
        .map_err(|_| {
            Failure::usage(format!("branch {branch} already exists")).help("pick another version")
        })?;
    host.store.insert_release(
        &project,
        version,
        &branch,
        snapshot.id,
        &snapshot.commit,
        now(),
    )?;
    host.progress.note(&format!(
        "cut {branch} at snapshot {} ({})",
        snapshot.id,
        short(&snapshot.commit)
    ));
    release(host, version)
}

/// What landing a release fix did.
#[derive(Debug, Serialize)]
pub struct FixOutcome {
    pub pr: i64,
    pub temper_run: i64,
    pub landed: bool,
    pub merge_commit: Option<String>,
    pub reason: Option<String>,
}

/// `release fix`: a PR targeting the release branch, merged on it only if
/// temper passes on exactly that merge.
pub fn fix(host: &mut Host<'_>, version: &str, pr: i64) -> Result<FixOutcome, Failure> {
    let release = release(host, version)?;
    let record = host.pr(pr)?;
    let record = host.refresh(&record)?;
    if record.target != release.branch {
        return Err(Failure::usage(format!(
            "PR #{pr} targets `{}`, not `{}`",
            record.target, release.branch
        ))
        .help(format!(
            "open release fixes with `ironworks pr open --target {}`",
            release.branch
        )));
    }
    if record.state != "open" || record.approved_by.is_none() || !record.spark_green() {
        return Err(Failure::usage(format!(
            "PR #{pr} is not ready: it must be open, approved and spark-green on its current head"
        )));
    }
    let branch = branch_ref(&release.branch);
    let head = host
        .repo
        .ref_target(&branch)?
        .ok_or_else(|| Failure::environment(format!("{branch} is gone")))?;
    let merge = match host.promotion_commit(&record, &head, now())? {
        Ok(merge) => merge,
        Err(paths) => {
            return Err(Failure::usage(format!(
                "PR #{pr} conflicts with {} in {}",
                release.branch,
                paths.join(", ")
            )));
        }
    };
    let plan = host.stage_plan(Stage::Temper)?;
    let (run, status) = host.run(
        plan,
        &merge,
        &format!("release {version} + PR #{pr}"),
        "release-fix",
        Some(pr),
    )?;
    if status != RunStatus::Green {
        return Ok(FixOutcome {
            pr,
            temper_run: run.0,
            landed: false,
            merge_commit: None,
            reason: Some(format!(
                "temper is {} on the merge: not landed; {} unchanged",
                status, release.branch
            )),
        });
    }
    host.repo.update_ref(
        &branch,
        &merge,
        Some(&head),
        &format!("ironworks: release fix PR #{pr}"),
    )?;
    let project = host.project().to_owned();
    host.store
        .insert_release_fix(&project, version, pr, &merge, run.0, now())?;
    Ok(FixOutcome {
        pr,
        temper_run: run.0,
        landed: true,
        merge_commit: Some(merge),
        reason: None,
    })
}

/// A commit on a release branch that nothing vetted.
#[derive(Debug, Serialize)]
pub struct Offender {
    pub commit: String,
    pub subject: String,
    pub reason: String,
}

/// The eligibility proof of a release.
#[derive(Debug, Serialize)]
pub struct Verification {
    pub version: String,
    pub branch: String,
    pub head: String,
    /// The previous release's tag the check starts from, if any.
    pub since: Option<String>,
    pub commits_checked: usize,
    pub in_green_snapshots: usize,
    pub release_fixes: usize,
    pub offenders: Vec<Offender>,
}

/// `release verify`: every commit on the release branch (since the previous
/// release's tag) is contained in a forge-green snapshot, or came in with a
/// release fix whose temper run passed.
pub fn verify(host: &mut Host<'_>, version: &str) -> Result<Verification, Failure> {
    let release = release(host, version)?;
    let project = host.project().to_owned();
    let branch = branch_ref(&release.branch);
    let head = host
        .repo
        .ref_target(&branch)?
        .ok_or_else(|| Failure::usage(format!("{} does not exist", release.branch)))?;
    let mut since = None;
    for previous in host.store.releases_before(&project, release.id)? {
        let tag = format!("refs/tags/v{}", previous.version);
        if host.repo.ref_target(&tag)?.is_some() {
            since = Some(tag);
            break;
        }
    }
    let candidates = host.repo.rev_list(
        &[&head],
        &since.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;

    let green: Vec<String> = host
        .store
        .snapshots(&project)?
        .into_iter()
        .filter(|s| s.status == "green")
        .map(|s| s.commit)
        .collect();
    let green_refs: Vec<&str> = green.iter().map(String::as_str).collect();
    let in_green: HashSet<String> = host.repo.rev_list(&green_refs, &[])?.into_iter().collect();

    // What each vetted fix brought in: its merge and the PR's commits.
    let mut vetted: HashSet<String> = HashSet::new();
    let fixes = host.store.release_fixes(&project, version)?;
    for fix in &fixes {
        vetted.insert(fix.merge_commit.clone());
        let brought = host.repo.rev_list(
            &[&format!("{}^2", fix.merge_commit)],
            &[&format!("{}^1", fix.merge_commit)],
        )?;
        vetted.extend(brought);
    }

    let mut offenders = Vec::new();
    let mut green_count = 0;
    let mut fix_count = 0;
    for commit in &candidates {
        if in_green.contains(commit) {
            green_count += 1;
        } else if vetted.contains(commit) {
            fix_count += 1;
        } else {
            offenders.push(Offender {
                commit: commit.clone(),
                subject: host.repo.subject(commit)?,
                reason: "not contained in any forge-green snapshot, and not brought in by a release fix that passed temper"
                    .into(),
            });
        }
    }
    Ok(Verification {
        version: version.to_owned(),
        branch: release.branch,
        head,
        since,
        commits_checked: candidates.len(),
        in_green_snapshots: green_count,
        release_fixes: fix_count,
        offenders,
    })
}

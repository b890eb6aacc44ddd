//! Triage of a red snapshot (post-merge mode): flake, culprit or interaction.
//! The decisions (bisection, culprit vs interaction) are the core's
//! `triage` module; this file runs the forge probes and writes the records.

use ironworks_core::record::{PromotionRecord, RunId};
use ironworks_core::triage::{Bisect, Finding, judge};
use ironworks_git::merge::Merge;
use ironworks_store::queue::NewTriage;

use super::{Host, QueueReport, short};
use crate::context::now;
use crate::error::Failure;

pub fn triage_red(
    host: &mut Host<'_>,
    red_commit: &str,
    red_run: RunId,
    report: &mut QueueReport,
) -> Result<(), Failure> {
    let project = host.project().to_owned();
    let snapshot_id = host
        .store
        .snapshot_by_commit(&project, red_commit)?
        .map(|s| s.id);

    // 1. The same commit again: if it passes now, the failures were flakes.
    host.progress.note(&format!(
        "snapshot {} is red: rerunning forge on the same commit",
        short(red_commit)
    ));
    let (rerun, green) = host.forge_snapshot(red_commit, "rerun")?;
    if green {
        for job in host.failed_jobs(red_run)? {
            host.record_flake(&job, snapshot_id, [red_run.0, rerun.0], report)?;
        }
        return Ok(());
    }

    // 2. Which promotion turned staging red? Bisect the staging commits made
    //    since the last green snapshot, reusing verdicts already known.
    let promotions = promotions_since_green(host, red_commit)?;
    let Some((last_green, promotions)) = promotions else {
        report.notes.push(format!(
            "snapshot {} is red and no promotion since a green snapshot explains it",
            short(red_commit)
        ));
        return Ok(());
    };
    let mut bisect = Bisect::new(promotions.len());
    for (i, promotion) in promotions.iter().enumerate() {
        if let Some(snapshot) = host
            .store
            .snapshot_by_commit(&project, &promotion.merge_commit)?
        {
            match snapshot.status.as_str() {
                "green" => bisect.known(i, true),
                "red" => bisect.known(i, false),
                _ => {}
            }
        }
    }
    let mut evidence = vec![red_run.0, rerun.0];
    while let Some(probe) = bisect.next_probe() {
        let commit = promotions[probe].merge_commit.clone();
        host.progress.note(&format!(
            "bisect: forge on {} (after PR #{})",
            short(&commit),
            promotions[probe].pr
        ));
        let (run, green) = host.forge_snapshot(&commit, "bisect")?;
        evidence.push(run.0);
        bisect.known(probe, green);
    }
    let first_red = bisect.first_red().expect("bisection ended");
    let suspect = promotions[first_red].clone();

    // 3. The suspect alone on the last green commit tells culprit from interaction.
    let alone = match host.repo.merge_tree(&last_green, &suspect.head_sha, None)? {
        Merge::Clean { tree } => {
            let message = format!(
                "ironworks triage: PR #{} alone on {}",
                suspect.pr,
                short(&last_green)
            );
            let commit = host.repo.commit_tree(
                &tree,
                &[&last_green, &suspect.head_sha],
                &message,
                (now().0 / 1000) as u64,
            )?;
            host.progress.note(&format!(
                "testing PR #{} alone on the last green snapshot",
                suspect.pr
            ));
            let plan = host.stage_plan(ironworks_core::Stage::Forge)?;
            let (run, status) =
                host.run(plan, &commit, "triage-alone", "bisect", Some(suspect.pr))?;
            evidence.push(run.0);
            status == ironworks_core::gate::RunStatus::Green
        }
        // It does not even merge alone on the last green commit: it only
        // makes sense together with what came before it.
        Merge::Conflict { .. } => true,
    };

    match judge(first_red, alone) {
        Finding::Culprit { .. } => revert(host, &suspect, snapshot_id, evidence, report),
        Finding::Interaction { suspects, .. } => {
            let prs: Vec<i64> = suspects.iter().map(|&i| promotions[i].pr).collect();
            let summary = format!(
                "staging turned red at PR #{} ({}), which passes alone on the last green snapshot {}: \
                 an interaction between PRs {}",
                suspect.pr,
                short(&suspect.merge_commit),
                short(&last_green),
                prs.iter()
                    .map(|p| format!("#{p}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            host.store.add_triage(&NewTriage {
                project: project.clone(),
                kind: "interaction".into(),
                snapshot: snapshot_id,
                prs,
                job: None,
                runs: evidence,
                summary: summary.clone(),
                at: now(),
            })?;
            report.notes.push(summary);
            Ok(())
        }
        Finding::Flake { .. } => unreachable!("flakes were handled above"),
    }
}

/// Revert an isolated culprit on staging (never rewriting history), record
/// the bug, and judge the new head.
fn revert(
    host: &mut Host<'_>,
    culprit: &PromotionRecord,
    snapshot: Option<i64>,
    mut evidence: Vec<i64>,
    report: &mut QueueReport,
) -> Result<(), Failure> {
    let project = host.project().to_owned();
    let staging = host.staging_ref();
    let head = host.staging_head()?;
    let before = host.repo.first_parent(&culprit.merge_commit)?;
    let summary_base = format!(
        "PR #{} ({}) alone turns the last green snapshot red",
        culprit.pr,
        short(&culprit.merge_commit)
    );
    let tree = match host
        .repo
        .merge_tree(&head, &before, Some(&culprit.merge_commit))?
    {
        Merge::Clean { tree } => tree,
        Merge::Conflict { paths } => {
            let summary = format!(
                "{summary_base}; its revert conflicts with later promotions in {}: revert it by hand",
                paths.join(", ")
            );
            return record_culprit(
                host, project, culprit.pr, snapshot, evidence, summary, report,
            );
        }
    };
    let at = now();
    let message = format!(
        "Revert promotion of PR #{pr}\n\nThis reverts commit {merge}: staging turned red with it,\nand it fails alone on the last green snapshot.\n\nReverts: {merge}\nPR: {pr}\nReverted-At: {at}\n",
        pr = culprit.pr,
        merge = culprit.merge_commit,
        at = at.rfc3339()
    );
    let revert = host
        .repo
        .commit_tree(&tree, &[&head], &message, (at.0 / 1000) as u64)?;
    host.repo.update_ref(
        &staging,
        &revert,
        Some(&head),
        &format!("ironworks: revert PR #{}", culprit.pr),
    )?;
    host.store.mark_reverted(culprit.id, &revert, now())?;
    host.progress.note(&format!(
        "reverted PR #{} as {}",
        culprit.pr,
        short(&revert)
    ));
    let (run, green) = host.forge_snapshot(&revert, "forge-snapshot")?;
    evidence.push(run.0);
    let summary = format!(
        "{summary_base}: reverted on staging by {} (snapshot {})",
        short(&revert),
        if green { "green" } else { "still red" }
    );
    report.reverted.push(culprit.pr);
    record_culprit(
        host, project, culprit.pr, snapshot, evidence, summary, report,
    )
}

/// The bug record of an isolated culprit, linked to its PR and the evidence.
fn record_culprit(
    host: &mut Host<'_>,
    project: String,
    pr: i64,
    snapshot: Option<i64>,
    evidence: Vec<i64>,
    summary: String,
    report: &mut QueueReport,
) -> Result<(), Failure> {
    host.store.add_triage(&NewTriage {
        project,
        kind: "culprit".into(),
        snapshot,
        prs: vec![pr],
        job: None,
        runs: evidence,
        summary: summary.clone(),
        at: now(),
    })?;
    report.notes.push(summary);
    Ok(())
}

/// The newest green snapshot that `red` contains, and the promotions made
/// after it that `red` contains, in order. Without any green snapshot, the
/// staging commit before the first promotion stands in for it.
fn promotions_since_green(
    host: &mut Host<'_>,
    red: &str,
) -> Result<Option<(String, Vec<PromotionRecord>)>, Failure> {
    let project = host.project().to_owned();
    let mut last_green = None;
    for snapshot in host.store.snapshots(&project)? {
        if snapshot.status == "green"
            && snapshot.commit != red
            && host.repo.is_ancestor(&snapshot.commit, red)?
        {
            last_green = Some(snapshot.commit);
            break; // newest first
        }
    }
    let mut chain = Vec::new();
    for promotion in host.store.promotions(&project)? {
        if promotion.state != "done" || !host.repo.is_ancestor(&promotion.merge_commit, red)? {
            continue;
        }
        if let Some(green) = &last_green
            && host.repo.is_ancestor(&promotion.merge_commit, green)?
        {
            continue;
        }
        chain.push(promotion);
    }
    let Some(first) = chain.first() else {
        return Ok(None);
    };
    let base = last_green.unwrap_or_else(|| first.staging_before.clone());
    // The red commit must be the last probe: it is known red.
    if chain.last().map(|p| p.merge_commit.as_str()) != Some(red) {
        return Ok(None);
    }
    Ok(Some((base, chain)))
}

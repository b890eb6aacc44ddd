//! Post-merge mode: eligible PRs are promoted at once; forge judges the new
//! staging head; a red snapshot is triaged.

use ironworks_core::record::SnapshotRecord;
use ironworks_store::queue::NewPromotion;

use super::{Host, QueueReport, short};
use crate::context::now;
use crate::error::Failure;

pub fn run_post_merge(host: &mut Host<'_>) -> Result<QueueReport, Failure> {
    let mut report = QueueReport {
        mode: "post-merge".into(),
        ..QueueReport::default()
    };
    host.recover_promotions()?;
    let mut head = host.staging_head()?;
    let staging = host.staging_ref();
    let project = host.project().to_owned();

    for pr in host.eligible()? {
        let at = now();
        let commit = match host.promotion_commit(&pr, &head, at)? {
            Ok(commit) => commit,
            Err(paths) => {
                host.conflict(&pr, &paths, &host.settings().staging.clone())?;
                report.conflicts.push(pr.id);
                continue;
            }
        };
        // Pending record, then the ref, then done: a crash in between is
        // resolved by recover_promotions on the next start.
        let promotion = host.store.begin_promotion(&NewPromotion {
            project: &project,
            pr: pr.id,
            head_sha: &pr.head_sha,
            merge_commit: &commit,
            staging_before: &head,
            landed_in: &commit,
            at,
        })?;
        crate::fault::point("promotion-before-ref");
        if let Err(err) = host.repo.update_ref(
            &staging,
            &commit,
            Some(&head),
            &format!("ironworks: promote PR #{}", pr.id),
        ) {
            host.store.abandon_promotion(promotion)?;
            return Err(err.into());
        }
        crate::fault::point("promotion-after-ref");
        host.store.complete_promotion(promotion, now())?;
        // Every staging commit is a snapshot; only the newest is forged now,
        // the others are judged by bisection if it turns red.
        host.store
            .upsert_snapshot(&project, &commit, "pending", None, None, now())?;
        host.progress
            .note(&format!("promoted PR #{} as {}", pr.id, short(&commit)));
        report.merged.push(pr.id);
        head = commit;
    }

    let known = host.store.snapshot_by_commit(&project, &head)?;
    let needs_forge = match &known {
        Some(SnapshotRecord { status, .. }) => status == "pending",
        None => true,
    };
    if needs_forge {
        let (run, green) = host.forge_snapshot(&head, "forge-snapshot")?;
        if !green {
            super::triage::triage_red(host, &head, run, &mut report)?;
        }
    }
    finish(host, &mut report)?;
    Ok(report)
}

/// Fill in staging's final state; fast-forward the target when asked to.
pub(super) fn finish(host: &mut Host<'_>, report: &mut QueueReport) -> Result<(), Failure> {
    let project = host.project().to_owned();
    let head = host.staging_head()?;
    let snapshot = host.store.snapshot_by_commit(&project, &head)?;
    report.snapshot_status = snapshot.as_ref().map(|s| s.status.clone());
    if host.settings().fast_forward_target && snapshot.as_ref().is_some_and(|s| s.status == "green")
    {
        let target = super::branch_ref(&host.settings().target);
        if let Some(current) = host.repo.ref_target(&target)?
            && current != head
        {
            if host.repo.is_ancestor(&current, &head)? {
                host.repo.update_ref(
                    &target,
                    &head,
                    Some(&current),
                    "ironworks: fast-forward to green snapshot",
                )?;
                report
                    .notes
                    .push(format!("fast-forwarded {target} to {}", short(&head)));
            } else {
                report.notes.push(format!(
                    "{target} is not an ancestor of staging; not fast-forwarded (never forced)"
                ));
            }
        }
    }
    report.staging = Some(head);
    Ok(())
}

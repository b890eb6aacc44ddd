//! Local host mode: PRs, promotion into staging, forge snapshots, triage and
//! try builds against a real git repository, with no code-hosting service.
//!
//! Decisions live in the core (eligibility, plans, bisection, culprit or
//! interaction, queue policies); this module does the IO they call for.

mod gated;
mod post_merge;
mod triage;

use std::path::{Path, PathBuf};

use ironworks_core::Stage;
use ironworks_core::gate::RunStatus;
use ironworks_core::graph::StagePlan;
use ironworks_core::record::{PrRecord, RunId, Timestamp};
use ironworks_git::Repository;
use ironworks_git::merge::Merge;
use ironworks_store::Store;
use ironworks_store::queue::NewTriage;

use crate::context::{LoadedAdapter, now};
use crate::error::Failure;
use crate::progress::Progress;
use crate::runner::{PlanRun, run_plan};

pub use gated::run_gated;
pub use post_merge::run_post_merge;

/// Everything a host-mode command works with.
#[derive(Debug)]
pub struct Host<'a> {
    pub loaded: &'a LoadedAdapter,
    pub repo: Repository,
    pub store: &'a mut Store,
    pub state_dir: PathBuf,
    pub progress: Progress,
    pub parallel: usize,
}

/// The ref name of a branch.
pub fn branch_ref(name: &str) -> String {
    if name.starts_with("refs/") {
        name.to_owned()
    } else {
        format!("refs/heads/{name}")
    }
}

impl Host<'_> {
    pub fn project(&self) -> &str {
        &self.loaded.adapter.project.id
    }

    pub fn settings(&self) -> &ironworks_core::adapter::QueueSettings {
        &self.loaded.adapter.queue
    }

    pub fn staging_ref(&self) -> String {
        branch_ref(&self.settings().staging)
    }

    /// Run `stage`'s default plan (or `plan`) on `commit`.
    pub fn run(
        &mut self,
        plan: StagePlan,
        commit: &str,
        rev: &str,
        purpose: &str,
        pr: Option<i64>,
    ) -> Result<(RunId, RunStatus), Failure> {
        let project = self.loaded.adapter.project.id.clone();
        let outcome = run_plan(
            &PlanRun {
                project: &project,
                plan,
                repo: &self.repo,
                commit: commit.to_owned(),
                rev: rev.to_owned(),
                purpose,
                pr,
                parallel: self.parallel,
                state_dir: &self.state_dir,
                keep_checkouts: false,
                sweep: true,
                toolstate: &self.loaded.adapter.toolstate,
            },
            self.store,
            &mut self.progress,
        )?;
        self.progress.end();
        Ok((outcome.run_id, outcome.status))
    }

    pub fn stage_plan(&self, stage: Stage) -> Result<StagePlan, Failure> {
        StagePlan::default_for(&self.loaded.adapter, stage).map_err(|err| {
            let help = err.help();
            Failure::usage(format!("{err} ({})", self.loaded.path.display())).help(help)
        })
    }

    pub fn pr(&self, id: i64) -> Result<PrRecord, Failure> {
        let pr = self.store.pr(id)?.ok_or_else(|| {
            Failure::usage(format!("no PR #{id} in project `{}`", self.project()))
                .help("`ironworks pr list` lists the PRs")
        })?;
        if pr.project != self.project() {
            return Err(Failure::usage(format!(
                "PR #{id} belongs to project `{}`",
                pr.project
            )));
        }
        Ok(pr)
    }

    /// Run spark on a PR's current head and store the verdict against it.
    pub fn spark(&mut self, pr: &PrRecord) -> Result<RunStatus, Failure> {
        let plan = self.stage_plan(Stage::Spark)?;
        let (run, status) = self.run(plan, &pr.head_sha, &pr.head_ref, "spark-pr", Some(pr.id))?;
        let verdict = if status == RunStatus::Green {
            "green"
        } else {
            "red"
        };
        self.store
            .pr_spark(pr.id, &pr.head_sha, run.0, verdict, now())?;
        Ok(status)
    }

    /// Look at a PR's head ref again. A new head invalidates approval and
    /// spark (and spark runs on it); a head that no longer exists closes it.
    pub fn refresh(&mut self, pr: &PrRecord) -> Result<PrRecord, Failure> {
        if !matches!(pr.state.as_str(), "open" | "conflict") {
            return Ok(pr.clone());
        }
        match self.repo.resolve_commit(&pr.head_ref) {
            Ok(head) if head == pr.head_sha => {}
            Ok(head) => {
                self.progress.note(&format!(
                    "PR #{}: new head {} (was {}): approval and spark reset",
                    pr.id,
                    short(&head),
                    short(&pr.head_sha)
                ));
                self.store.pr_new_head(pr.id, &head, now())?;
                let updated = self.pr(pr.id)?;
                self.spark(&updated)?;
            }
            Err(_) => {
                let reason = format!("head ref `{}` no longer exists", pr.head_ref);
                self.progress
                    .note(&format!("PR #{}: {reason}; closed", pr.id));
                self.store.pr_state(pr.id, "closed", Some(&reason), now())?;
            }
        }
        self.pr(pr.id)
    }

    /// Eligible PRs in queue order: priority (higher first), then approval time.
    pub fn eligible(&mut self) -> Result<Vec<PrRecord>, Failure> {
        let mut eligible = Vec::new();
        for pr in self.store.prs(self.project())? {
            let pr = self.refresh(&pr)?;
            if pr.eligible(&self.settings().ready_label) {
                eligible.push(pr);
            }
        }
        eligible.sort_by_key(|pr| (-pr.priority, pr.approved_at, pr.id));
        Ok(eligible)
    }

    /// `staging`'s head, creating the branch from the target if it does not
    /// exist yet.
    pub fn staging_head(&mut self) -> Result<String, Failure> {
        let staging = self.staging_ref();
        if let Some(head) = self.repo.ref_target(&staging)? {
            return Ok(head);
        }
        let target = branch_ref(&self.settings().target);
        let base = self.repo.ref_target(&target)?.ok_or_else(|| {
            Failure::usage(format!(
                "neither {staging} nor the target branch {target} exists in {}",
                self.repo.path().display()
            ))
            .help("create the target branch, or set [queue] target in the adapter")
        })?;
        self.repo.update_ref(
            &staging,
            &base,
            None,
            "ironworks: create staging from target",
        )?;
        self.progress
            .note(&format!("created {staging} at {} ({target})", short(&base)));
        Ok(base)
    }

    /// Make the merge commit that promotes `pr` onto `onto`, with the
    /// DESIGN.md §2 trailers; a conflict names the paths.
    pub fn promotion_commit(
        &self,
        pr: &PrRecord,
        onto: &str,
        at: Timestamp,
    ) -> Result<Result<String, Vec<String>>, Failure> {
        match self.repo.merge_tree(onto, &pr.head_sha, None)? {
            Merge::Conflict { paths } => Ok(Err(paths)),
            Merge::Clean { tree } => {
                let message = format!(
                    "Promote PR #{id}: {title}\n\nPR: {id}\nHead: {head}\nHead-Ref: {head_ref}\nTarget: {target}\nApproved-By: {by}\nPromoted-At: {at}\n",
                    id = pr.id,
                    title = pr.title,
                    head = pr.head_sha,
                    head_ref = pr.head_ref,
                    target = pr.target,
                    by = pr.approved_by.as_deref().unwrap_or("-"),
                    at = at.rfc3339(),
                );
                let commit = self.repo.commit_tree(
                    &tree,
                    &[onto, &pr.head_sha],
                    &message,
                    (at.0 / 1000) as u64,
                )?;
                Ok(Ok(commit))
            }
        }
    }

    /// A PR that does not merge: marked `conflict` with the paths, and recorded.
    pub fn conflict(&mut self, pr: &PrRecord, paths: &[String], with: &str) -> Result<(), Failure> {
        let reason = format!("conflicts with {with} in {}", paths.join(", "));
        self.store
            .pr_state(pr.id, "conflict", Some(&reason), now())?;
        self.store.add_triage(&NewTriage {
            project: self.project().to_owned(),
            kind: "conflict".into(),
            snapshot: None,
            prs: vec![pr.id],
            job: None,
            runs: Vec::new(),
            summary: format!("PR #{} {reason}", pr.id),
            at: now(),
        })?;
        self.progress
            .note(&format!("PR #{}: {reason}; skipped", pr.id));
        Ok(())
    }

    /// On start: a promotion recorded `pending` either happened (its merge
    /// commit is on staging) or did not; make the store say which.
    pub fn recover_promotions(&mut self) -> Result<(), Failure> {
        let pending = self.store.pending_promotions(self.project())?;
        if pending.is_empty() {
            return Ok(());
        }
        let staging = self.repo.ref_target(&self.staging_ref())?;
        for promotion in pending {
            let landed = match &staging {
                Some(head) => self.repo.is_ancestor(&promotion.merge_commit, head)?,
                None => false,
            };
            if landed {
                self.store.complete_promotion(promotion.id, now())?;
            } else {
                self.store.abandon_promotion(promotion.id)?;
            }
            self.progress.note(&format!(
                "recovered an interrupted promotion of PR #{}: {}",
                promotion.pr,
                if landed {
                    "it landed"
                } else {
                    "it never landed"
                }
            ));
        }
        Ok(())
    }

    /// Run forge on a staging commit and record the snapshot's verdict.
    pub fn forge_snapshot(
        &mut self,
        commit: &str,
        purpose: &str,
    ) -> Result<(RunId, bool), Failure> {
        let plan = self.stage_plan(Stage::Forge)?;
        let project = self.project().to_owned();
        self.store
            .upsert_snapshot(&project, commit, "pending", None, None, now())?;
        let (run, status) = self.run(
            plan,
            commit,
            &self.settings().staging.clone(),
            purpose,
            None,
        )?;
        let green = status == RunStatus::Green;
        self.store.upsert_snapshot(
            &project,
            commit,
            if green { "green" } else { "red" },
            Some(run.0),
            None,
            now(),
        )?;
        Ok((run, green))
    }
}

impl Host<'_> {
    /// Record that `job` flaked (failed, then passed on the same tree), and
    /// demote it to `observe` once it is over the project's flake budget.
    pub fn record_flake(
        &mut self,
        job: &str,
        snapshot: Option<i64>,
        runs: [i64; 2],
        report: &mut QueueReport,
    ) -> Result<(), Failure> {
        let project = self.project().to_owned();
        self.store.add_triage(&NewTriage {
            project: project.clone(),
            kind: "flake".into(),
            snapshot,
            prs: Vec::new(),
            job: Some(job.to_owned()),
            runs: runs.to_vec(),
            summary: format!(
                "`{job}` failed in run {} and passed on the same tree in run {}",
                runs[0], runs[1]
            ),
            at: now(),
        })?;
        report
            .notes
            .push(format!("flake: `{job}` (runs {} and {})", runs[0], runs[1]));
        let flakes = self.store.flake_count(&project, job)?;
        let budget = self.settings().flake_budget;
        if flakes > budget {
            let reason = format!(
                "`{job}` flaked {flakes} times, over its budget of {budget}: demoted to observe until fixed"
            );
            self.store
                .override_gate(&project, job, "observe", &reason, now())?;
            report.notes.push(reason);
        }
        Ok(())
    }

    /// The jobs that failed or timed out in a run.
    pub fn failed_jobs(&self, run: RunId) -> Result<Vec<String>, Failure> {
        let detail = self.store.run(run)?.expect("a recorded run");
        Ok(detail
            .jobs
            .into_iter()
            .filter(|j| {
                matches!(
                    j.status,
                    ironworks_core::gate::JobStatus::Failed
                        | ironworks_core::gate::JobStatus::TimedOut
                )
            })
            .map(|j| j.job)
            .collect())
    }
}

pub fn short(sha: &str) -> &str {
    &sha[..12.min(sha.len())]
}

/// Open a host-mode context for a command.
pub fn open<'a>(
    loaded: &'a LoadedAdapter,
    store: &'a mut Store,
    state_dir: &Path,
    source: Option<&Path>,
    quiet: bool,
) -> Result<Host<'a>, Failure> {
    let repo = crate::runner::source_repository(loaded, source)?;
    Ok(Host {
        loaded,
        repo,
        store,
        state_dir: state_dir.to_owned(),
        progress: Progress::new(quiet),
        parallel: crate::commands::default_parallelism(),
    })
}

/// What one `ironworks queue run` did, for the summary and `--json`.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct QueueReport {
    pub mode: String,
    /// PRs merged into staging.
    pub merged: Vec<i64>,
    pub conflicts: Vec<i64>,
    pub ejected: Vec<i64>,
    pub reverted: Vec<i64>,
    /// Staging's head after the run, with its snapshot verdict.
    pub staging: Option<String>,
    pub snapshot_status: Option<String>,
    /// Triage records written, in words.
    pub notes: Vec<String>,
}

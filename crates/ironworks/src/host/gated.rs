//! Gated mode: candidates are tested first, and `staging` only ever moves to
//! a commit whose exact tree passed the required forge set.
//!
//! The decisions (what to build, on what, what to land, whom to eject) are
//! a core queue policy's ([`ironworks_core::queue`]), the same code the
//! simulator runs. This driver applies its actions to the repository: a
//! `Start` becomes a candidate commit (the PRs merged in order, each merge
//! carrying the promotion trailers) on `refs/ironworks/candidates/<build>`
//! and a forge run on it; a `Land` fast-forwards staging to the candidate
//! with a compare-and-swap; an `Eject` records the evidence. Builds run one
//! after the other on this machine.

use std::collections::{BTreeMap, HashMap, VecDeque};

use ironworks_core::queue::{self, Action, Base, BuildId, Candidate, Entry, Event, QueueConfig};
use ironworks_core::record::PrRecord;
use ironworks_store::queue::{NewPromotion, NewTriage};

use super::{Host, QueueReport, short};
use crate::context::now;
use crate::error::Failure;

/// One build of this queue run.
#[derive(Debug)]
struct Build {
    candidate: Candidate,
    /// Staging's head when a build on `Base::Staging` was started.
    staging_at_start: Option<String>,
    /// The candidate commit and the promotion commit of each of its PRs.
    commit: Option<String>,
    merges: Vec<(i64, String)>,
    run: Option<i64>,
    passed: Option<bool>,
}

fn secs() -> u64 {
    (now().0 / 1000).max(0) as u64
}

pub fn run_gated(host: &mut Host<'_>) -> Result<QueueReport, Failure> {
    let mut report = QueueReport {
        mode: "gated".into(),
        ..QueueReport::default()
    };
    host.recover_promotions()?;
    let settings = host.settings().clone();
    let config = QueueConfig {
        builders: settings.builders,
        max_batch: settings.max_batch,
    };
    let mut policy = queue::policy(&settings.policy, config)
        .ok_or_else(|| Failure::usage(format!("unknown queue policy `{}`", settings.policy)))?;
    let mut driver = Driver {
        staging: host.staging_head()?,
        prs: HashMap::new(),
        builds: BTreeMap::new(),
        pending: VecDeque::new(),
        failed_trees: HashMap::new(),
        cancelled: Default::default(),
    };

    for pr in host.eligible()? {
        // A PR that does not merge onto staging now is not queued at all.
        if let ironworks_git::merge::Merge::Conflict { paths } =
            host.repo.merge_tree(&driver.staging, &pr.head_sha, None)?
        {
            host.conflict(&pr, &paths, &settings.staging)?;
            report.conflicts.push(pr.id);
            continue;
        }
        let entry = Entry {
            pr: pr.id as u64,
            priority: pr.priority as i32,
            approved_at: pr.approved_at.map_or(0, |t| (t.0 / 1000) as u64),
            rollup: pr.rollup.parse().unwrap_or_default(),
        };
        driver.prs.insert(pr.id, pr);
        let actions = policy.on_event(secs(), Event::Enqueued(entry));
        driver.apply(host, actions, &mut report)?;
    }

    // Up to `builders` forge runs at once, each in a thread of its own with
    // its own store connection; their results come back on a channel.
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Done>();
    let mut running: HashMap<BuildId, std::thread::JoinHandle<()>> = HashMap::new();
    loop {
        let free = settings
            .builders
            .saturating_sub(running.len() + driver.pending.len());
        let actions = policy.poll(secs(), free);
        driver.apply(host, actions, &mut report)?;
        while running.len() < settings.builders {
            let Some(build) = driver.pending.pop_front() else {
                break;
            };
            match driver.prepare(host, build, &mut report)? {
                Some(launch) => {
                    let handle = launch.spawn(host, done_tx.clone());
                    running.insert(build, handle);
                }
                None => {
                    // The candidate could not even be built: a failure.
                    let actions = policy.on_event(
                        secs(),
                        Event::Finished {
                            build,
                            passed: false,
                        },
                    );
                    driver.apply(host, actions, &mut report)?;
                }
            }
        }
        if running.is_empty() {
            if driver.pending.is_empty() {
                break;
            }
            continue;
        }
        let done = done_rx.recv().expect("a running build reports back");
        if let Some(handle) = running.remove(&done.build) {
            let _ = handle.join();
        }
        let (run, green) = match done.result {
            Ok(result) => result,
            Err(failure) => {
                // Let the other builds end (their runs are recorded), then
                // report the first failure; nothing more is started or landed.
                for (_, handle) in running.drain() {
                    let _ = handle.join();
                }
                return Err(failure);
            }
        };
        let passed = driver.finish_build(host, done.build, run, green, &mut report)?;
        if driver.cancelled.contains(&done.build) {
            continue; // the policy no longer cares
        }
        let actions = policy.on_event(
            secs(),
            Event::Finished {
                build: done.build,
                passed,
            },
        );
        driver.apply(host, actions, &mut report)?;
    }
    // Concurrent runs did not sweep leftover children (they would have hit
    // each other's jobs); every run has ended now.
    let escaped = ironworks_exec::reaper::sweep_children();
    if escaped > 0 {
        report.notes.push(format!(
            "killed {escaped} process(es) that escaped their job's process group"
        ));
    }
    let unfinished = policy.queued();
    if !unfinished.is_empty() {
        report.notes.push(format!(
            "policy `{}` left PRs queued: {:?}",
            policy.name(),
            unfinished
        ));
    }
    for id in driver.builds.keys() {
        host.repo.delete_ref(&candidate_ref(*id))?;
    }
    super::post_merge::finish(host, &mut report)?;
    Ok(report)
}

fn candidate_ref(build: BuildId) -> String {
    format!("refs/ironworks/candidates/{build}")
}

#[derive(Debug)]
struct Driver {
    /// Staging's head as this run knows it (it moves only by our Lands).
    staging: String,
    prs: HashMap<i64, PrRecord>,
    builds: BTreeMap<BuildId, Build>,
    /// Started, not yet run (runs happen one at a time, in start order).
    pending: VecDeque<BuildId>,
    /// Trees that failed, with the failing run: a later pass of the same tree
    /// is a flake.
    failed_trees: HashMap<String, i64>,
    cancelled: std::collections::HashSet<BuildId>,
}

/// A candidate ready to be judged by forge in a thread of its own.
#[derive(Debug)]
struct Launch {
    build: BuildId,
    commit: String,
    plan: ironworks_core::graph::StagePlan,
}

/// A build's result: its run and whether it was green.
#[derive(Debug)]
struct Done {
    build: BuildId,
    result: Result<(i64, bool), Failure>,
}

impl Launch {
    fn spawn(
        self,
        host: &Host<'_>,
        done: std::sync::mpsc::Sender<Done>,
    ) -> std::thread::JoinHandle<()> {
        let repo = host.repo.clone();
        let project = host.project().to_owned();
        let toolstate = host.loaded.adapter.toolstate.clone();
        let state_dir = host.state_dir.clone();
        // Builds share the machine: split the cores between them.
        let parallel = (host.parallel / host.settings().builders).max(1);
        std::thread::spawn(move || {
            let result = (|| {
                let mut store = ironworks_store::Store::open(&state_dir)?;
                let mut progress = crate::progress::Progress::new(false);
                let outcome = crate::runner::run_plan(
                    &crate::runner::PlanRun {
                        project: &project,
                        plan: self.plan,
                        repo: &repo,
                        commit: self.commit.clone(),
                        rev: candidate_ref(self.build),
                        purpose: "gated-build",
                        pr: None,
                        parallel,
                        state_dir: &state_dir,
                        keep_checkouts: false,
                        sweep: false,
                        toolstate: &toolstate,
                    },
                    &mut store,
                    &mut progress,
                )?;
                progress.end();
                Ok((
                    outcome.run_id.0,
                    outcome.status == ironworks_core::gate::RunStatus::Green,
                ))
            })();
            let _ = done.send(Done {
                build: self.build,
                result,
            });
        })
    }
}

impl Driver {
    fn apply(
        &mut self,
        host: &mut Host<'_>,
        actions: Vec<Action>,
        report: &mut QueueReport,
    ) -> Result<(), Failure> {
        for action in actions {
            match action {
                Action::Start { build, candidate } => {
                    let staging_at_start =
                        (candidate.base == Base::Staging).then(|| self.staging.clone());
                    self.builds.insert(
                        build,
                        Build {
                            candidate,
                            staging_at_start,
                            commit: None,
                            merges: Vec::new(),
                            run: None,
                            passed: None,
                        },
                    );
                    self.pending.push_back(build);
                }
                Action::Cancel { build } => {
                    // Not started: dropped. Running: it finishes, and its
                    // result is ignored.
                    self.pending.retain(|b| *b != build);
                    self.cancelled.insert(build);
                }
                Action::Land { build } => self.land(host, build, report)?,
                Action::Eject(ejection) => {
                    let pr = ejection.pr as i64;
                    let run = self.builds.get(&ejection.evidence).and_then(|b| b.run);
                    let reason = format!(
                        "failed on its own in candidate build {}{}",
                        ejection.evidence,
                        run.map(|r| format!(" (run {r})")).unwrap_or_default()
                    );
                    host.store.pr_state(pr, "ejected", Some(&reason), now())?;
                    host.store.add_triage(&NewTriage {
                        project: host.project().to_owned(),
                        kind: "ejection".into(),
                        snapshot: None,
                        prs: vec![pr],
                        job: None,
                        runs: run.into_iter().collect(),
                        summary: format!("PR #{pr} ejected from the queue: {reason}"),
                        at: now(),
                    })?;
                    host.progress.note(&format!("ejected PR #{pr}: {reason}"));
                    report.ejected.push(pr);
                }
            }
        }
        Ok(())
    }

    /// The commit a build's candidate sits on.
    fn base_commit(&self, build: &Build) -> Option<String> {
        match build.candidate.base {
            Base::Staging => build.staging_at_start.clone(),
            Base::Build(base) => self.builds.get(&base)?.commit.clone(),
        }
    }

    /// Build the candidate commit on its scratch ref; `None` when it cannot
    /// be built (its base was never built, or its PRs conflict).
    fn prepare(
        &mut self,
        host: &mut Host<'_>,
        id: BuildId,
        report: &mut QueueReport,
    ) -> Result<Option<Launch>, Failure> {
        let Some(mut commit) = self.base_commit(&self.builds[&id]) else {
            report.notes.push(format!(
                "build {id}: its base was never built; counted as failed"
            ));
            return Ok(None);
        };
        let mut merges = Vec::new();
        for pr in self.builds[&id].candidate.prs.clone() {
            let pr = pr as i64;
            let Some(record) = self.prs.get(&pr).cloned() else {
                return Ok(None);
            };
            match host.promotion_commit(&record, &commit, now())? {
                Ok(merged) => {
                    merges.push((pr, merged.clone()));
                    commit = merged;
                }
                Err(paths) => {
                    report.notes.push(format!(
                        "build {id}: PR #{pr} conflicts with the PRs before it in {}",
                        paths.join(", ")
                    ));
                    self.builds.get_mut(&id).expect("known").passed = Some(false);
                    return Ok(None);
                }
            }
        }
        host.repo.delete_ref(&candidate_ref(id))?;
        host.repo.update_ref(
            &candidate_ref(id),
            &commit,
            None,
            "ironworks: gated candidate",
        )?;
        let prs: Vec<String> = merges.iter().map(|(pr, _)| format!("#{pr}")).collect();
        host.progress.note(&format!(
            "build {id}: forge on {} ({})",
            short(&commit),
            prs.join(" + ")
        ));
        let build = self.builds.get_mut(&id).expect("known");
        build.commit = Some(commit.clone());
        build.merges = merges;
        Ok(Some(Launch {
            build: id,
            commit,
            plan: host.stage_plan(ironworks_core::Stage::Forge)?,
        }))
    }

    /// Record a finished build; a pass of a tree that failed before is a flake.
    fn finish_build(
        &mut self,
        host: &mut Host<'_>,
        id: BuildId,
        run: i64,
        green: bool,
        report: &mut QueueReport,
    ) -> Result<bool, Failure> {
        let commit = self.builds[&id]
            .commit
            .clone()
            .expect("a launched build has a commit");
        let tree = host.repo.tree_of(&commit)?;
        if green {
            if let Some(&failed_run) = self.failed_trees.get(&tree) {
                record_flakes(host, failed_run, run, report)?;
            }
        } else {
            self.failed_trees.entry(tree).or_insert(run);
        }
        let build = self.builds.get_mut(&id).expect("known");
        build.run = Some(run);
        build.passed = Some(green);
        Ok(green)
    }

    /// Fast-forward staging to a passed build's candidate, recording each
    /// PR in it not landed yet as a promotion (pending, ref, done).
    fn land(
        &mut self,
        host: &mut Host<'_>,
        id: BuildId,
        report: &mut QueueReport,
    ) -> Result<(), Failure> {
        let build = &self.builds[&id];
        let (Some(commit), Some(true), false) = (
            build.commit.clone(),
            build.passed,
            self.cancelled.contains(&id),
        ) else {
            return Err(Failure::environment(format!(
                "queue policy asked to land build {id}, which did not pass; staging left alone"
            )));
        };
        if !host.repo.is_ancestor(&self.staging, &commit)? {
            return Err(Failure::environment(format!(
                "build {id} is not a fast-forward of staging {}; staging left alone",
                short(&self.staging)
            )));
        }
        // Every merge on the chain from staging to the candidate.
        let mut chain = Vec::new();
        let mut cursor = Some(id);
        while let Some(b) = cursor {
            let build = &self.builds[&b];
            chain.splice(0..0, build.merges.clone());
            cursor = match build.candidate.base {
                Base::Build(base) => Some(base),
                Base::Staging => None,
            };
        }
        let project = host.project().to_owned();
        let mut pending = Vec::new();
        let mut before = self.staging.clone();
        for (pr, merge) in &chain {
            if host.repo.is_ancestor(merge, &self.staging)? {
                continue; // landed already with an earlier build
            }
            let head = self.prs[pr].head_sha.clone();
            let promotion = host.store.begin_promotion(&NewPromotion {
                project: &project,
                pr: *pr,
                head_sha: &head,
                merge_commit: merge,
                staging_before: &before,
                landed_in: &commit,
                at: now(),
            })?;
            pending.push((*pr, promotion));
            before = merge.clone();
        }
        crate::fault::point("gated-land-before-ref");
        if let Err(err) = host.repo.update_ref(
            &host.staging_ref(),
            &commit,
            Some(&self.staging),
            &format!("ironworks: land gated build {id}"),
        ) {
            for (_, promotion) in &pending {
                host.store.abandon_promotion(*promotion)?;
            }
            return Err(err.into());
        }
        for (pr, promotion) in pending {
            host.store.complete_promotion(promotion, now())?;
            report.merged.push(pr);
        }
        let run = self.builds[&id].run;
        host.store.upsert_snapshot(
            &project,
            &commit,
            "green",
            run,
            Some("gated: this exact tree passed forge"),
            now(),
        )?;
        host.progress.note(&format!(
            "landed build {id}: staging is now {}",
            short(&commit)
        ));
        self.staging = commit;
        Ok(())
    }
}

fn record_flakes(
    host: &mut Host<'_>,
    failed_run: i64,
    passed_run: i64,
    report: &mut QueueReport,
) -> Result<(), Failure> {
    for job in host.failed_jobs(ironworks_core::record::RunId(failed_run))? {
        host.record_flake(&job, None, [failed_run, passed_run], report)?;
    }
    Ok(())
}

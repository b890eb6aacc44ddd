//! Running one stage for one commit: the wiring of core (plan, scheduler,
//! verdict), git (checkouts), exec (processes, reports, artifacts) and the
//! store. One `select!` loop owns the scheduler; jobs run as tasks and report
//! back when they end; Ctrl-C and SIGTERM escalate a cancel level that every
//! job watches.

use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ironworks_core::Stage;
use ironworks_core::duration;
use ironworks_core::env::{RunContext, job_environment};
use ironworks_core::gate::{self, JobStatus, RunStatus};
use ironworks_core::graph::{Scheduler, StagePlan};
use ironworks_core::record::{RunId, Timestamp};
use ironworks_core::toolstate::ToolState;
use ironworks_exec::{Cancel, Ending, Launch, artifacts, junit, reaper};
use ironworks_git::Repository;
use ironworks_git::tree::TreeSnapshot;
use ironworks_store::{JobFinish, NewJobRun, NewRun, Store};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::context::{LoadedAdapter, now};
use crate::error::Failure;
use crate::progress::Progress;

/// What to run.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub loaded: &'a LoadedAdapter,
    pub stage: Stage,
    pub source: Option<PathBuf>,
    pub rev: String,
    pub parallel: usize,
    pub state_dir: PathBuf,
    pub keep_checkouts: bool,
}

/// How it went.
#[derive(Debug, Clone, Copy)]
pub struct RunOutcome {
    pub run_id: RunId,
    pub status: RunStatus,
}

/// The directory that keeps a run's logs and artifacts.
pub fn run_dir(state_dir: &Path, run: RunId) -> PathBuf {
    state_dir.join("runs").join(run.0.to_string())
}

pub fn run_stage(
    request: &RunRequest<'_>,
    store: &mut Store,
    progress: &mut Progress,
) -> Result<RunOutcome, Failure> {
    let adapter = &request.loaded.adapter;
    let plan = StagePlan::default_for(adapter, request.stage).map_err(|err| {
        let help = err.help();
        Failure::usage(format!("{err} ({})", request.loaded.path.display())).help(help)
    })?;
    let repo = source_repository(request.loaded, request.source.as_deref())?;
    let commit = repo.resolve_commit(&request.rev)?;
    run_plan(
        &PlanRun {
            project: &adapter.project.id,
            plan,
            repo: &repo,
            commit,
            rev: request.rev.clone(),
            purpose: "stage",
            pr: None,
            parallel: request.parallel,
            state_dir: &request.state_dir,
            keep_checkouts: request.keep_checkouts,
            sweep: true,
            toolstate: &adapter.toolstate,
        },
        store,
        progress,
    )
}

/// The source repository: `--source`, else the adapter's `[project] source`.
pub fn source_repository(
    loaded: &LoadedAdapter,
    given: Option<&Path>,
) -> Result<Repository, Failure> {
    let source = match given {
        Some(source) => source.to_owned(),
        None => loaded.dir().join(&loaded.adapter.project.source),
    };
    Ok(Repository::open(&source)?)
}

/// Any plan, on any commit, for a stated purpose.
#[derive(Debug)]
pub struct PlanRun<'a> {
    pub project: &'a str,
    pub plan: StagePlan,
    pub repo: &'a Repository,
    /// The full commit id to test.
    pub commit: String,
    /// How the commit was named, for the record.
    pub rev: String,
    /// `stage`, `spark-pr`, `forge-snapshot`, `gated-build`, `bisect`, `try`, `rerun`.
    pub purpose: &'a str,
    pub pr: Option<i64>,
    pub parallel: usize,
    pub state_dir: &'a Path,
    pub keep_checkouts: bool,
    /// Kill any child process left when the run ends. Off when other runs
    /// share this process (concurrent gated builds): their jobs are children
    /// too; the caller sweeps once they have all ended.
    pub sweep: bool,
    /// The project's toolstate rules (stable components, release calendar).
    pub toolstate: &'a ironworks_core::toolstate::ToolstateSettings,
}

pub fn run_plan(
    request: &PlanRun<'_>,
    store: &mut Store,
    progress: &mut Progress,
) -> Result<RunOutcome, Failure> {
    // Gates Ironworks changed itself (a job over its flake budget is
    // demoted to observe) apply to every run.
    let mut plan = request.plan.clone();
    let overrides = store.gate_overrides(request.project)?;
    for planned in &mut plan.jobs {
        if let Some(gate) = overrides
            .get(&planned.job.name)
            .and_then(|g| g.parse().ok())
        {
            planned.job.gate = gate;
        }
    }
    let plan = &plan;
    let repo = request.repo;
    let commit = request.commit.clone();
    let source = repo.path().to_owned();

    // Everything that can fail on bad input has been checked: from here on
    // the run is recorded.
    let token = random_token()?;
    let lock = crate::recovery::lock_run(request.state_dir, &token)?;
    let work = request.state_dir.join("work").join(&token);
    let pristine = work.join("pristine");
    fs::create_dir_all(&work)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", work.display())))?;
    if let Err(err) = repo.checkout(&commit, &pristine) {
        let _ = fs::remove_dir_all(&work);
        return Err(
            Failure::from(err).help("the source could not be checked out; nothing was recorded")
        );
    }

    let source_text = std::path::absolute(&source)
        .unwrap_or(source.clone())
        .display()
        .to_string();
    let (run_id, job_ids) = store.begin_run(&NewRun {
        project: request.project.to_owned(),
        stage: plan.stage,
        commit: commit.clone(),
        rev: request.rev.clone(),
        source: source_text,
        token: token.clone(),
        started_at: now(),
        purpose: request.purpose.to_owned(),
        pr: request.pr,
        jobs: plan
            .jobs
            .iter()
            .map(|planned| NewJobRun {
                job: planned.job.name.clone(),
                gate: planned.job.gate,
                argv: planned.job.command.argv(),
            })
            .collect(),
    })?;
    let runs_dir = run_dir(request.state_dir, run_id);
    fs::create_dir_all(&runs_dir)
        .map_err(|e| Failure::environment(format!("cannot create {}: {e}", runs_dir.display())))?;
    progress.begin(
        run_id,
        plan.stage,
        request.project,
        &commit,
        plan.jobs.len(),
    );

    let setup = Setup {
        plan,
        project: request.project,
        commit: &commit,
        run_id,
        token: &token,
        work: &work,
        pristine: &pristine,
        runs_dir: &runs_dir,
        parallel: request.parallel.max(1),
        keep_checkouts: request.keep_checkouts,
        sweep: request.sweep,
        toolstate: request.toolstate,
        janitor: Janitor::start(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::environment(format!("cannot start the async runtime: {e}")))?;
    let status = runtime.block_on(execute(&setup, &job_ids, store, progress))?;
    store.finish_run(run_id, status, now())?;
    if status == RunStatus::Green
        && let Err(failure) = crate::logs::learn_from_run(store, run_id)
    {
        // The run's verdict stands; only the log analyzer misses this run.
        eprintln!("warning: the log analyzer could not learn run {run_id}: {failure}");
    }

    if !request.keep_checkouts {
        setup.janitor.remove(work.clone());
    }
    setup.janitor.finish();
    drop(lock);
    let _ = fs::remove_file(crate::context::lock_path(request.state_dir, &token));
    Ok(RunOutcome { run_id, status })
}

struct Setup<'a> {
    plan: &'a StagePlan,
    project: &'a str,
    commit: &'a str,
    run_id: RunId,
    token: &'a str,
    work: &'a Path,
    pristine: &'a Path,
    runs_dir: &'a Path,
    parallel: usize,
    keep_checkouts: bool,
    sweep: bool,
    toolstate: &'a ironworks_core::toolstate::ToolstateSettings,
    janitor: Janitor,
}

/// What a finished job task hands back.
struct JobResult {
    index: usize,
    finish: JobFinish,
    duration: Duration,
    /// The job's checkout, restored and ready for the next job.
    slot: Option<Slot>,
    /// What a toolstate job wrote to `$IRONWORKS_TOOLSTATE`, if anything.
    toolstate: Option<String>,
}

async fn execute(
    setup: &Setup<'_>,
    job_ids: &[ironworks_core::record::JobRunId],
    store: &mut Store,
    progress: &mut Progress,
) -> Result<RunStatus, Failure> {
    if let Err(err) = reaper::become_subreaper() {
        progress.note(&format!("warning: cannot become a child subreaper ({err}); orphaned job processes are left to init"));
    }
    let signal_err =
        |e: std::io::Error| Failure::environment(format!("cannot watch for signals: {e}"));
    let mut interrupt = signal(SignalKind::interrupt()).map_err(signal_err)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(signal_err)?;
    let (cancel_tx, cancel_rx) = watch::channel(Cancel::No);
    let mut cancel = Cancel::No;
    let mut scheduler = Scheduler::new(setup.plan);
    let mut statuses = vec![JobStatus::Pending; setup.plan.jobs.len()];
    let mut reported: Vec<Option<String>> = vec![None; setup.plan.jobs.len()];
    let mut tests_ran = vec![false; setup.plan.jobs.len()];
    let mut tasks = JoinSet::new();
    let mut slots = Slots::default();

    loop {
        while cancel == Cancel::No && tasks.len() < setup.parallel {
            let Some(index) = scheduler.start_next() else {
                break;
            };
            let job = &setup.plan.jobs[index].job;
            // Logs sit side by side (runs/<run>/<job>.log): a directory per
            // job would cost an inode for every job, artifacts or not.
            let log = setup.runs_dir.join(format!("{}.log", job.name));
            store.job_started(job_ids[index], now(), &log.display().to_string())?;
            statuses[index] = JobStatus::Running;
            progress.started(&job.name);
            let slot = slots.take(setup, &job.name);
            tasks.spawn(run_job(
                job_task(setup, index, log, slot),
                cancel_rx.clone(),
            ));
        }
        if tasks.is_empty() {
            break;
        }
        tokio::select! {
            joined = tasks.join_next() => {
                let result = joined
                    .expect("the set is not empty")
                    .map_err(|e| Failure::environment(format!("a job task failed: {e}")))?;
                let job = &setup.plan.jobs[result.index].job;
                if let Some(slot) = result.slot {
                    slots.free.push(slot);
                }
                store.job_finished(job_ids[result.index], &result.finish)?;
                statuses[result.index] = result.finish.status;
                reported[result.index] = result.toolstate;
                tests_ran[result.index] = result.finish.tests.is_some_and(|t| t.total > 0);
                progress.finished(&job.name, job.gate, result.finish.status, result.duration, result.finish.reason.as_deref());
                if cancel != Cancel::No {
                    // A cancelled run only winds down; nothing new starts.
                    continue;
                }
                for skipped in scheduler.finish(result.index, result.finish.status == JobStatus::Passed) {
                    let name = &setup.plan.jobs[skipped].job.name;
                    let because = match scheduler.slot(skipped) {
                        ironworks_core::graph::Slot::Skipped { because } => &setup.plan.jobs[because].job.name,
                        _ => &job.name,
                    };
                    let reason = format!("needs `{because}`, which did not pass");
                    store.job_finished(job_ids[skipped], &JobFinish::without_running(JobStatus::Skipped, reason.clone(), now()))?;
                    statuses[skipped] = JobStatus::Skipped;
                    progress.finished(name, setup.plan.jobs[skipped].job.gate, JobStatus::Skipped, Duration::ZERO, Some(&reason));
                }
            }
            _ = interrupt.recv() => {
                escalate(&mut cancel, &cancel_tx, &mut scheduler, setup, job_ids, &mut statuses, store, progress)?;
            }
            _ = terminate.recv() => {
                escalate(&mut cancel, &cancel_tx, &mut scheduler, setup, job_ids, &mut statuses, store, progress)?;
            }
        }
    }

    let escaped = if setup.sweep {
        reaper::sweep_children()
    } else {
        0
    };
    if escaped > 0 {
        progress.note(&format!(
            "warning: killed {escaped} process(es) that left their job's process group (setsid) and outlived it"
        ));
    }
    if cancel != Cancel::No {
        return Ok(RunStatus::Cancelled);
    }
    let verdict = gate::verdict(
        setup
            .plan
            .jobs
            .iter()
            .zip(&statuses)
            .map(|(planned, status)| (planned.job.gate, *status)),
    );
    let toolstate_fails =
        judge_toolstate(setup, store, progress, &statuses, &reported, &tests_ran)?;
    Ok(if toolstate_fails {
        RunStatus::Red
    } else {
        verdict
    })
}

/// Record the state of every toolstate component the run built, report
/// changes, and say whether a regression fails the gate.
fn judge_toolstate(
    setup: &Setup<'_>,
    store: &mut Store,
    progress: &mut Progress,
    statuses: &[JobStatus],
    reported: &[Option<String>],
    tests_ran: &[bool],
) -> Result<bool, Failure> {
    let mut fails = false;
    for (index, planned) in setup.plan.jobs.iter().enumerate() {
        let Some(component) = &planned.job.toolstate else {
            continue;
        };
        if !matches!(
            statuses[index],
            JobStatus::Passed | JobStatus::Failed | JobStatus::TimedOut
        ) {
            continue; // it did not run
        }
        let state = match reported[index].as_deref().map(str::parse::<ToolState>) {
            Some(Ok(state)) => state,
            Some(Err(why)) => {
                progress.note(&format!("{component}: $IRONWORKS_TOOLSTATE ignored: {why}"));
                ToolState::infer(statuses[index] == JobStatus::Passed, tests_ran[index])
            }
            None => ToolState::infer(statuses[index] == JobStatus::Passed, tests_ran[index]),
        };
        let previous = store
            .last_toolstate(setup.project, component)?
            .and_then(|s| s.parse::<ToolState>().ok());
        let change =
            ironworks_core::toolstate::judge(component, previous, state, setup.toolstate, now().0);
        store.record_toolstate(
            setup.project,
            component,
            &planned.job.name,
            setup.commit,
            setup.run_id.0,
            state.as_str(),
            change.as_ref().map(|c| c.summary.as_str()),
            now(),
        )?;
        if let Some(change) = change {
            progress.note(&format!("toolstate: {}", change.summary));
            fails |= change.fails_gate;
        }
    }
    Ok(fails)
}

#[allow(clippy::too_many_arguments)]
fn escalate(
    cancel: &mut Cancel,
    cancel_tx: &watch::Sender<Cancel>,
    scheduler: &mut Scheduler,
    setup: &Setup<'_>,
    job_ids: &[ironworks_core::record::JobRunId],
    statuses: &mut [JobStatus],
    store: &mut Store,
    progress: &mut Progress,
) -> Result<(), Failure> {
    if *cancel == Cancel::No {
        *cancel = Cancel::Graceful;
        progress.note("cancelling: running jobs get SIGTERM, then SIGKILL after their grace period (interrupt again to kill now)");
        for index in scheduler.cancel_waiting() {
            let reason = "the run was cancelled before this job started".to_owned();
            store.job_finished(
                job_ids[index],
                &JobFinish::without_running(JobStatus::Cancelled, reason, now()),
            )?;
            statuses[index] = JobStatus::Cancelled;
            let job = &setup.plan.jobs[index].job;
            progress.finished(
                &job.name,
                job.gate,
                JobStatus::Cancelled,
                Duration::ZERO,
                None,
            );
        }
    } else {
        *cancel = Cancel::Immediate;
        progress.note("killing running jobs now");
    }
    let _ = cancel_tx.send(*cancel);
    Ok(())
}

/// A checkout jobs run in, one after the other: the directory, its TMPDIR,
/// and the snapshot that lets it be restored to the pristine tree after a
/// job instead of being copied anew (see `ironworks_git::tree`).
#[derive(Debug)]
struct Slot {
    checkout: PathBuf,
    tmpdir: PathBuf,
    /// `None` until the checkout has been made; also `None` for checkouts
    /// kept for inspection (`--keep-checkouts`), which are never reused.
    snapshot: Option<TreeSnapshot>,
    reusable: bool,
}

/// The pool of slots of one run; at most `--jobs` are ever made.
#[derive(Debug, Default)]
struct Slots {
    free: Vec<Slot>,
    made: usize,
}

impl Slots {
    fn take(&mut self, setup: &Setup<'_>, job: &str) -> Slot {
        if setup.keep_checkouts {
            return Slot {
                checkout: setup.work.join(job),
                tmpdir: setup.work.join(format!("{job}.tmp")),
                snapshot: None,
                reusable: false,
            };
        }
        self.free.pop().unwrap_or_else(|| {
            self.made += 1;
            Slot {
                checkout: setup.work.join(format!("slot-{}", self.made)),
                tmpdir: setup.work.join(format!("slot-{}.tmp", self.made)),
                snapshot: None,
                reusable: true,
            }
        })
    }
}

/// Everything one job task needs, owned, so the task can be spawned.
struct JobTask {
    index: usize,
    launch: Launch,
    pristine: PathBuf,
    slot: Slot,
    artifact_dir: PathBuf,
    artifacts: Vec<String>,
    junit: Option<String>,
    timeout_text: String,
    trash: PathBuf,
    janitor: Option<std::sync::mpsc::Sender<PathBuf>>,
    /// Where a toolstate job may write its state.
    toolstate_file: Option<PathBuf>,
}

fn job_task(setup: &Setup<'_>, index: usize, log: PathBuf, slot: Slot) -> JobTask {
    let job = &setup.plan.jobs[index].job;
    let context = RunContext {
        project: setup.project,
        stage: setup.plan.stage.as_str(),
        commit: setup.commit,
        run_id: setup.run_id.0,
        run_token: setup.token,
        tmpdir: &slot.tmpdir.display().to_string(),
    };
    let mut env = job_environment(job, &context, |name| std::env::var(name).ok());
    let toolstate_file = job
        .toolstate
        .as_ref()
        .map(|_| slot.tmpdir.join(".ironworks-toolstate"));
    if let Some(file) = &toolstate_file {
        env.push(("IRONWORKS_TOOLSTATE".into(), file.display().to_string()));
        env.sort();
    }
    JobTask {
        index,
        launch: Launch {
            argv: job.command.argv(),
            cwd: slot.checkout.clone(),
            env,
            log,
            timeout: job.timeout,
            grace: job.grace,
        },
        pristine: setup.pristine.to_owned(),
        slot,
        artifact_dir: artifacts::artifact_dir(setup.runs_dir, &job.name),
        artifacts: job.artifacts.clone(),
        junit: job.junit.clone(),
        timeout_text: duration::display(job.timeout),
        trash: setup.work.join(format!("trash-{index}")),
        janitor: setup.janitor.sender(),
        toolstate_file,
    }
}

async fn run_job(mut task: JobTask, cancel: watch::Receiver<Cancel>) -> JobResult {
    // A new slot gets a copy of the pristine tree; a reused one was restored
    // to it when its previous job ended.
    let prepared = if task.slot.snapshot.is_some() {
        Ok(task.slot)
    } else {
        let (pristine, mut slot) = (task.pristine.clone(), task.slot);
        tokio::task::spawn_blocking(move || -> Result<Slot, String> {
            let fail = |what: &str, e: &dyn std::error::Error| {
                format!(
                    "cannot prepare the job's checkout: {what}: {}",
                    crate::error::chain(e)
                )
            };
            ironworks_git::copy_tree(&pristine, &slot.checkout).map_err(|e| fail("copy", &e))?;
            fs::create_dir_all(&slot.tmpdir).map_err(|e| fail("TMPDIR", &e))?;
            if slot.reusable {
                slot.snapshot =
                    Some(TreeSnapshot::take(&slot.checkout).map_err(|e| fail("snapshot", &e))?);
            }
            Ok(slot)
        })
        .await
        .unwrap_or_else(|e| Err(format!("checkout task failed: {e}")))
    };
    let finished = match prepared {
        Ok(slot) => {
            task.slot = slot;
            ironworks_exec::supervise(task.launch.clone(), cancel).await
        }
        Err(reason) => {
            // No usable slot: conclude() finds no checkout to read from.
            task.slot = Slot {
                checkout: task.launch.cwd.clone(),
                tmpdir: PathBuf::new(),
                snapshot: None,
                reusable: false,
            };
            ironworks_exec::Finished {
                ending: Ending::SpawnFailed(reason),
                exit_code: None,
                signal: None,
                killed_leftovers: false,
                started: std::time::SystemTime::now(),
                duration: Duration::ZERO,
                peak_rss_kb: None,
            }
        }
    };

    // Reports and artifacts are read even from failed jobs: that is when
    // they matter most.
    let index = task.index;
    let duration = finished.duration;
    let (finish, slot, toolstate) = tokio::task::spawn_blocking(move || conclude(task, finished))
        .await
        .unwrap_or_else(|e| {
            let finish = JobFinish::without_running(
                JobStatus::Failed,
                format!("result task failed: {e}"),
                now(),
            );
            (finish, None, None)
        });
    JobResult {
        index,
        finish,
        toolstate,
        duration,
        slot,
    }
}

/// Read the job's results, then give its slot back clean (or not at all).
fn conclude(
    mut task: JobTask,
    finished: ironworks_exec::Finished,
) -> (JobFinish, Option<Slot>, Option<String>) {
    let mut notes = Vec::new();
    let checkout = task.slot.checkout.clone();
    let ran = !matches!(finished.ending, Ending::SpawnFailed(_));
    let report = match &task.junit {
        Some(path) if ran => match junit::read(&checkout.join(path)) {
            Ok(report) => Some(report),
            Err(err) => {
                notes.push(err.to_string());
                None
            }
        },
        _ => None,
    };
    let collected = if task.artifacts.is_empty() || !ran {
        artifacts::Collected::default()
    } else {
        artifacts::collect(&checkout, &task.artifacts, &task.artifact_dir)
    };
    notes.extend(collected.warnings);
    if finished.killed_leftovers {
        notes.push("left processes running after it exited; they were terminated".into());
    }
    let (status, reason) = gate::job_status(
        &finished.ending,
        report.as_ref().map(|r| r.counts.failed),
        &task.timeout_text,
    );
    let reason = std::iter::once(reason)
        .flatten()
        .chain(notes)
        .collect::<Vec<_>>()
        .join("; ");
    let finish = JobFinish {
        status,
        exit_code: finished.exit_code,
        signal: finished.signal,
        reason: (!reason.is_empty()).then_some(reason),
        finished_at: Timestamp::from_system(finished.started + finished.duration),
        peak_rss_kb: finished.peak_rss_kb,
        tests: report.as_ref().map(|r| r.counts),
        test_failures: report.map(|r| r.failures).unwrap_or_default(),
        artifacts: collected.artifacts,
    };
    // Read before the slot's TMPDIR is emptied for the next job.
    let toolstate = task
        .toolstate_file
        .as_ref()
        .and_then(|file| std::fs::read_to_string(file).ok())
        .map(|text| text.trim().to_owned());
    (finish, recycle(&mut task), toolstate)
}

/// Restore a slot for the next job. A slot that cannot be restored is
/// thrown away (the next job gets a fresh copy); kept checkouts stay.
fn recycle(task: &mut JobTask) -> Option<Slot> {
    let slot = &mut task.slot;
    if !slot.reusable {
        return None;
    }
    let restored = match &mut slot.snapshot {
        Some(snapshot) => {
            snapshot
                .restore(&slot.checkout, &task.pristine, Some(&task.trash))
                .is_ok()
                && empty_dir(&slot.tmpdir, &task.trash).is_ok()
        }
        None => false,
    };
    if task.trash.exists() {
        // Renamed there by the restore: deleting it is the janitor's job.
        remove_via(task.janitor.as_ref(), task.trash.clone());
    }
    if restored {
        return Some(std::mem::replace(
            slot,
            Slot {
                checkout: PathBuf::new(),
                tmpdir: PathBuf::new(),
                snapshot: None,
                reusable: false,
            },
        ));
    }
    remove_via(task.janitor.as_ref(), slot.checkout.clone());
    remove_via(task.janitor.as_ref(), slot.tmpdir.clone());
    None
}

/// Empty a directory by moving its entries into `trash`.
fn empty_dir(dir: &Path, trash: &Path) -> std::io::Result<()> {
    for (moved, entry) in fs::read_dir(dir)?.enumerate() {
        let entry = entry?;
        if moved == 0 {
            fs::create_dir_all(trash)?;
        }
        fs::rename(entry.path(), trash.join(format!("tmp-{moved}")))?;
    }
    Ok(())
}

/// Removes finished jobs' checkouts on a thread of its own. On file systems
/// mounted with `discard`, freeing blocks waits for the device; no job should
/// wait for that (it was the largest part of the per-job overhead measured by
/// bench/orchestration.sh).
struct Janitor {
    sender: Option<std::sync::mpsc::Sender<PathBuf>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Janitor {
    fn start() -> Janitor {
        let (sender, receiver) = std::sync::mpsc::channel::<PathBuf>();
        let thread = std::thread::Builder::new()
            .name("ironworks-janitor".into())
            .spawn(move || {
                for path in receiver {
                    let _ = fs::remove_dir_all(&path);
                }
            })
            .ok();
        Janitor {
            sender: thread.is_some().then_some(sender),
            thread,
        }
    }

    fn sender(&self) -> Option<std::sync::mpsc::Sender<PathBuf>> {
        self.sender.clone()
    }

    /// Remove `path` soon; at once if the janitor could not start.
    fn remove(&self, path: PathBuf) {
        remove_via(self.sender.as_ref(), path);
    }

    /// Wait until everything handed over is gone.
    fn finish(mut self) {
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn remove_via(sender: Option<&std::sync::mpsc::Sender<PathBuf>>, path: PathBuf) {
    match sender {
        Some(sender) => {
            if let Err(std::sync::mpsc::SendError(path)) = sender.send(path) {
                let _ = fs::remove_dir_all(path);
            }
        }
        None => {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// A random token naming a run's lock and marking its processes.
fn random_token() -> Result<String, Failure> {
    let mut bytes = [0u8; 12];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|e| Failure::environment(format!("cannot read /dev/urandom: {e}")))?;
    Ok(artifacts::hex(&bytes))
}

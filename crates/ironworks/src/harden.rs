//! Harden: scheduled heavy validation on forge-green snapshots.
//!
//! Decisions (which snapshot, whether a job is due, assertion verdicts) are
//! the core's `harden` module; this module runs the jobs, checks replay
//! expectations, writes `report.json` and `report.md`, and records failures.

use ironworks_core::Stage;
use ironworks_core::adapter::{Gate, HardenKind, Job};
use ironworks_core::gate::RunStatus;
use ironworks_core::graph::StagePlan;
use ironworks_core::harden::{self, Assertion, Due, LastRun, Schedule};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ironworks_cache::FixtureStore;
use ironworks_core::fixture::Fixture;
use ironworks_core::record::{RunId, SnapshotRecord};
use ironworks_store::queue::NewTriage;
use serde::Serialize;

use crate::context::now;
use crate::error::Failure;
use crate::host::{Host, short};

/// What one harden job run found.
#[derive(Debug, Clone, Serialize)]
pub struct HardenReport {
    pub project: String,
    pub job: String,
    pub kind: HardenKind,
    pub gate: Gate,
    pub snapshot: i64,
    pub commit: String,
    /// The run that decided it; `None` when nothing ran (a fixture that
    /// failed verification fails closed).
    pub run: Option<i64>,
    /// green | red
    pub verdict: String,
    pub argv: Vec<String>,
    pub wall_ms: Option<i64>,
    /// Peak resident memory of the job's process group (KiB, sampled).
    pub peak_rss_kb: Option<u64>,
    pub log: Option<String>,
    pub assertions: Vec<Assertion>,
    /// The fixture the job ran on, with its verified digest.
    pub fixture: Option<FixtureUse>,
    /// Compat jobs: one result per previous release.
    pub releases: Vec<ReleaseResult>,
    /// Fuzz jobs: one result per target.
    pub fuzz: Vec<FuzzTargetReport>,
    /// Why it is red, in words.
    pub reason: Option<String>,
}

/// A verified fixture a job used.
#[derive(Debug, Clone, Serialize)]
pub struct FixtureUse {
    pub id: String,
    pub sha256: String,
    pub size: u64,
}

/// A fuzz job's run of one target.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzTargetReport {
    pub target: String,
    pub stats: ironworks_core::fuzz::FuzzStats,
    pub new_inputs: usize,
    pub corpus_before: usize,
    pub corpus_after: usize,
    /// Killed at its wall-clock limit (a hang), not a crash.
    pub timed_out: bool,
    /// Inputs that hit the per-input timeout: reported, not crashes.
    pub timeouts: usize,
    pub crashes: Vec<FuzzCrashReport>,
    pub error: Option<String>,
}

/// A crash, with whether its signature was seen before.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzCrashReport {
    pub signature: String,
    pub crash_type: String,
    pub reproduced: bool,
    /// First time this signature was seen for this job: a new finding.
    pub new: bool,
    pub reproducer: String,
}

/// A compat job against one previous release.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseResult {
    pub release: String,
    pub sha256: String,
    pub run: Option<i64>,
    pub verdict: String,
    pub reason: Option<String>,
}

/// The harden jobs of the adapter (the stage must be enabled).
pub fn harden_jobs<'a>(host: &'a Host<'_>, only: Option<&str>) -> Result<Vec<&'a Job>, Failure> {
    let adapter = &host.loaded.adapter;
    if !adapter.policy.is_enabled(Stage::Harden) {
        return Err(Failure::usage(format!(
            "stage harden is not enabled for project `{}`",
            adapter.project.id
        ))
        .help("add \"harden\" to `enable` in the adapter's [stages] table"));
    }
    let jobs: Vec<&Job> = adapter
        .jobs_in(Stage::Harden)
        .filter(|j| only.is_none_or(|name| j.name == name))
        .collect();
    if let Some(name) = only
        && jobs.is_empty()
    {
        let hint = adapter
            .suggest_job(name)
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(Failure::usage(format!("no harden job `{name}`{hint}")));
    }
    Ok(jobs)
}

/// The snapshot to run on: `--snapshot ID` (which must be green) or the
/// newest forge-green one.
pub fn snapshot(host: &Host<'_>, id: Option<i64>) -> Result<Option<SnapshotRecord>, Failure> {
    let project = host.project();
    match id {
        None => Ok(host.store.newest_green_snapshot(project)?),
        Some(id) => {
            let snapshot = host
                .store
                .snapshots(project)?
                .into_iter()
                .find(|s| s.id == id)
                .ok_or_else(|| {
                    Failure::usage(format!("no snapshot {id}"))
                        .help("`ironworks snapshots` lists them")
                })?;
            if snapshot.status != "green" {
                return Err(Failure::usage(format!(
                    "snapshot {id} is {}: harden only runs on forge-green snapshots",
                    snapshot.status
                )));
            }
            Ok(Some(snapshot))
        }
    }
}

/// Decide for each job; run those that are due. Returns the reports.
pub fn tick(
    host: &mut Host<'_>,
    only: Option<&str>,
    snapshot_id: Option<i64>,
    forced: bool,
) -> Result<Vec<(String, Due, Option<HardenReport>)>, Failure> {
    let jobs: Vec<Job> = harden_jobs(host, only)?.into_iter().cloned().collect();
    let snapshot = snapshot(host, snapshot_id)?;
    let mut results = Vec::new();
    for job in jobs {
        let schedule = job
            .harden
            .schedule
            .as_deref()
            .map(Schedule::parse)
            .transpose()
            .map_err(Failure::usage)?;
        let last = host
            .store
            .last_harden_run(host.project(), &job.name)?
            .map(|r| LastRun {
                snapshot: r.snapshot,
                started_at: r.started_at.0,
            });
        let decision = harden::due(
            schedule.as_ref(),
            last,
            snapshot.as_ref().map(|s| s.id),
            now().0,
            forced,
        );
        let report = match (&decision, &snapshot) {
            (Due::Run { reason }, Some(snapshot)) => {
                host.progress.note(&format!(
                    "harden `{}` on snapshot {}: {reason}",
                    job.name, snapshot.id
                ));
                Some(run_one(host, &job, snapshot)?)
            }
            _ => None,
        };
        results.push((job.name.clone(), decision, report));
    }
    Ok(results)
}

fn run_one(
    host: &mut Host<'_>,
    job: &Job,
    snapshot: &SnapshotRecord,
) -> Result<HardenReport, Failure> {
    let project = host.project().to_owned();
    let mut report = HardenReport {
        project: project.clone(),
        job: job.name.clone(),
        kind: job.harden.kind,
        gate: job.gate,
        snapshot: snapshot.id,
        commit: snapshot.commit.clone(),
        run: None,
        verdict: "red".into(),
        argv: job.command.argv(),
        wall_ms: None,
        peak_rss_kb: None,
        log: None,
        assertions: Vec::new(),
        fixture: None,
        releases: Vec::new(),
        fuzz: Vec::new(),
        reason: None,
    };
    let mut expect = BTreeMap::new();
    let mut env = Vec::new();
    let mut unpacked = Vec::new();

    let corpus_fixture = job.harden.fuzz.as_ref().and_then(|f| f.corpus.clone());
    for id in job.harden.fixture.iter().chain(corpus_fixture.iter()) {
        match prepare_fixture(host, id) {
            Ok((dir, fixture)) => {
                expect.extend(fixture.expect.clone());
                env.push((
                    "IRONWORKS_FIXTURE_DIR".to_owned(),
                    dir.display().to_string(),
                ));
                report.fixture = Some(FixtureUse {
                    id: fixture.id.clone(),
                    sha256: fixture.sha256.clone(),
                    size: fixture.size,
                });
                unpacked.push(dir);
            }
            // Fails closed: nothing runs on an unverified fixture.
            Err(reason) => {
                report.reason = Some(format!("nothing was run: {reason}"));
                return finish(host, report, snapshot, None);
            }
        }
    }
    expect.extend(job.harden.expect.clone());

    if job.harden.kind == HardenKind::Compat {
        let mut last_run = None;
        for release in &job.harden.releases {
            let result = match prepare_fixture(host, release) {
                Err(reason) => ReleaseResult {
                    release: release.clone(),
                    sha256: String::new(),
                    run: None,
                    verdict: "red".into(),
                    reason: Some(format!("not run: {reason}")),
                },
                Ok((dir, fixture)) => {
                    let mut release_env = env.clone();
                    release_env.push(("IRONWORKS_PREVIOUS_RELEASE".to_owned(), release.clone()));
                    release_env.push((
                        "IRONWORKS_PREVIOUS_RELEASE_DIR".to_owned(),
                        dir.display().to_string(),
                    ));
                    let outcome =
                        execute(host, job, snapshot, &release_env, &BTreeMap::new(), &[])?;
                    unpacked.push(dir);
                    last_run = Some(outcome.run);
                    report.log = outcome.log.clone();
                    ReleaseResult {
                        release: release.clone(),
                        sha256: fixture.sha256.clone(),
                        run: Some(outcome.run),
                        verdict: if outcome.reason.is_none() {
                            "green"
                        } else {
                            "red"
                        }
                        .into(),
                        reason: outcome.reason,
                    }
                }
            };
            report.releases.push(result);
        }
        let failed: Vec<String> = report
            .releases
            .iter()
            .filter(|r| r.verdict != "green")
            .map(|r| format!("{} ({})", r.release, r.reason.as_deref().unwrap_or("red")))
            .collect();
        if !failed.is_empty() {
            report.reason = Some(format!("incompatible with: {}", failed.join(", ")));
        }
        cleanup(&unpacked);
        return finish(host, report, snapshot, last_run);
    }

    if let (HardenKind::Fuzz, Some(settings)) = (job.harden.kind, job.harden.fuzz.clone()) {
        let outcome = execute(
            host,
            job,
            snapshot,
            &env,
            &BTreeMap::new(),
            std::slice::from_ref(&settings.binary),
        )?;
        report.log = outcome.log.clone();
        report.wall_ms = outcome.wall_ms;
        if let Some(reason) = outcome.reason {
            report.reason = Some(format!("the fuzz binary did not build: {reason}"));
        } else {
            match outcome.artifacts.iter().find(|a| a.path == settings.binary) {
                None => {
                    report.reason = Some(format!(
                        "the job did not produce the fuzz binary {}",
                        settings.binary
                    ))
                }
                Some(binary) => {
                    let seeds: Vec<PathBuf> = unpacked.clone();
                    fuzz_targets(
                        host,
                        job,
                        &settings,
                        Path::new(&binary.stored_at),
                        &seeds,
                        outcome.run,
                        &mut report,
                    )?;
                }
            }
        }
        cleanup(&unpacked);
        return finish(host, report, snapshot, Some(outcome.run));
    }

    let outcome = execute(host, job, snapshot, &env, &expect, &[])?;
    cleanup(&unpacked);
    report.wall_ms = outcome.wall_ms;
    report.peak_rss_kb = outcome.peak_rss_kb;
    report.log = outcome.log;
    report.assertions = outcome.assertions;
    report.reason = outcome.reason;
    finish(host, report, snapshot, Some(outcome.run))
}

/// What running a harden job's command once produced.
#[derive(Debug)]
struct Execution {
    run: i64,
    wall_ms: Option<i64>,
    peak_rss_kb: Option<u64>,
    log: Option<String>,
    assertions: Vec<Assertion>,
    reason: Option<String>,
    artifacts: Vec<ironworks_core::record::ArtifactRecord>,
}

/// Run the job (with the jobs it needs) on the snapshot, with extra
/// environment, and check `expect` against its output.
fn execute(
    host: &mut Host<'_>,
    job: &Job,
    snapshot: &SnapshotRecord,
    env: &[(String, String)],
    expect: &BTreeMap<String, serde_json::Value>,
    keep: &[String],
) -> Result<Execution, Failure> {
    let adapter = &host.loaded.adapter;
    // The output file is kept as an artifact so it can be read after the
    // checkout is recycled.
    let mut runnable = job.clone();
    if let Some(output) = &job.harden.output {
        runnable.artifacts.push(output.clone());
    }
    runnable.env.extend(env.iter().cloned());
    runnable.artifacts.extend(keep.iter().cloned());
    let plan = StagePlan {
        stage: Stage::Harden,
        jobs: StagePlan::selected(adapter, Stage::Harden, &[job])
            .jobs
            .into_iter()
            .map(|mut planned| {
                if planned.job.name == job.name {
                    planned.job = runnable.clone();
                }
                planned
            })
            .collect(),
    };
    let (run, status) = host.run(
        plan,
        &snapshot.commit,
        &format!("snapshot {}", snapshot.id),
        "harden",
        None,
    )?;
    let detail = host.store.run(run)?.expect("just recorded");
    let record = detail
        .jobs
        .iter()
        .find(|j| j.job == job.name)
        .expect("the job ran");
    let mut reason = (status != RunStatus::Green).then(|| {
        record
            .reason
            .clone()
            .unwrap_or_else(|| record.status.to_string())
    });
    let mut assertions = Vec::new();
    if !expect.is_empty() && record.status == ironworks_core::gate::JobStatus::Passed {
        let text = match &job.harden.output {
            Some(output) => record
                .artifacts
                .iter()
                .find(|a| a.path == *output)
                .and_then(|a| std::fs::read_to_string(&a.stored_at).ok())
                .unwrap_or_default(),
            None => record
                .log
                .as_deref()
                .and_then(|l| std::fs::read_to_string(l).ok())
                .unwrap_or_default(),
        };
        match harden::check(expect, &text) {
            Ok(checked) => {
                let failed: Vec<String> = checked
                    .iter()
                    .filter(|a| !a.passed)
                    .map(|a| {
                        format!(
                            "{} expected {} got {}",
                            a.pointer,
                            a.expected,
                            a.actual
                                .as_ref()
                                .map_or("nothing".into(), |v| v.to_string())
                        )
                    })
                    .collect();
                if !failed.is_empty() {
                    reason = Some(format!("assertions failed: {}", failed.join("; ")));
                }
                assertions = checked;
            }
            Err(why) => reason = Some(why),
        }
    }
    Ok(Execution {
        run: run.0,
        wall_ms: record.duration_ms,
        peak_rss_kb: record.peak_rss_kb,
        log: record.log.clone(),
        assertions,
        reason,
        artifacts: record.artifacts.clone(),
    })
}

/// Run every fuzz target of a fuzz job against its persistent corpus and
/// record crashes as findings, deduplicated by signature.
fn fuzz_targets(
    host: &mut Host<'_>,
    job: &Job,
    settings: &ironworks_core::adapter::FuzzSettings,
    binary: &Path,
    seeds: &[PathBuf],
    run: i64,
    report: &mut HardenReport,
) -> Result<(), Failure> {
    use ironworks_exec::fuzz::{FuzzJob, FuzzLimits, list_targets, run_target};
    // The artifact copy is not executable; the binary must be.
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(binary, std::fs::Permissions::from_mode(0o755));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::environment(format!("cannot start the async runtime: {e}")))?;
    let (_cancel_tx, cancel) = tokio::sync::watch::channel(ironworks_exec::Cancel::No);
    let work = host.state_dir.join("work").join(format!("fuzz-{run}"));
    // The fuzzer finds llvm-symbolizer (for named stack frames) on PATH.
    let env: Vec<(String, String)> = ["PATH", "HOME"]
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
        .collect();
    let targets = if settings.targets.is_empty() {
        match runtime.block_on(list_targets(
            binary,
            &work.join("list"),
            &env,
            std::time::Duration::from_secs(60),
            cancel.clone(),
        )) {
            Ok(targets) => targets,
            Err(err) => {
                report.reason = Some(format!(
                    "cannot list the fuzz targets: {}",
                    crate::error::chain(&err)
                ));
                return Ok(());
            }
        }
    } else {
        settings.targets.clone()
    };
    let project = host.project().to_owned();
    let mut problems = Vec::new();
    for target in targets {
        let corpus = host
            .state_dir
            .join("fuzz")
            .join("corpus")
            .join(&job.name)
            .join(&target);
        let _ = std::fs::create_dir_all(&corpus);
        let fuzz_job = FuzzJob {
            binary: binary.to_owned(),
            target: target.clone(),
            work_dir: work.join(&target),
            corpus,
            seeds: seeds
                .iter()
                .map(|dir| {
                    if dir.join(&target).is_dir() {
                        dir.join(&target)
                    } else {
                        dir.clone()
                    }
                })
                .collect(),
            env: env.clone(),
            extra_args: Vec::new(),
            limits: FuzzLimits {
                budget: settings.budget,
                input_timeout: settings.input_timeout,
                rss_limit_mb: settings.rss_limit_mb,
                ..FuzzLimits::default()
            },
        };
        let outcome = match runtime.block_on(run_target(&fuzz_job, cancel.clone())) {
            Ok(outcome) => outcome,
            Err(err) => {
                let error = crate::error::chain(&err);
                problems.push(format!("{target}: {error}"));
                report.fuzz.push(FuzzTargetReport {
                    target,
                    stats: Default::default(),
                    new_inputs: 0,
                    corpus_before: 0,
                    corpus_after: 0,
                    timed_out: false,
                    timeouts: 0,
                    crashes: Vec::new(),
                    error: Some(error),
                });
                continue;
            }
        };
        let mut crashes = Vec::new();
        for crash in &outcome.crashes {
            // Keep the reproducer beyond the work directory.
            let key = crash.signature.key();
            let kept = host
                .state_dir
                .join("fuzz")
                .join("findings")
                .join(&job.name)
                .join(ironworks_exec::artifacts::hex(
                    &key.as_bytes()[..key.len().min(24)],
                ));
            let _ = std::fs::create_dir_all(&kept);
            let reproducer = kept.join(crash.reproducer.file_name().unwrap_or_default());
            let _ = std::fs::copy(&crash.reproducer, &reproducer);
            let new = host.store.record_fuzz_crash(
                &project,
                &job.name,
                &target,
                &key,
                crash.kind.crash_type(),
                &reproducer.display().to_string(),
                run,
                now(),
            )?;
            crashes.push(FuzzCrashReport {
                signature: key,
                crash_type: crash.kind.crash_type().to_owned(),
                reproduced: crash.reproduced,
                new,
                reproducer: reproducer.display().to_string(),
            });
        }
        if !crashes.is_empty() {
            let new = crashes.iter().filter(|c| c.new).count();
            problems.push(format!("{target}: {} crash(es), {new} new", crashes.len()));
        }
        if outcome.timed_out || !outcome.timeouts.is_empty() {
            problems.push(format!(
                "{target}: timeout ({})",
                if outcome.timed_out {
                    "killed at its wall-clock limit"
                } else {
                    "an input ran past -timeout"
                }
            ));
        }
        report.fuzz.push(FuzzTargetReport {
            target,
            stats: outcome.stats.clone(),
            new_inputs: outcome.new_inputs,
            corpus_before: outcome.corpus_before,
            corpus_after: outcome.corpus_after,
            timed_out: outcome.timed_out,
            timeouts: outcome.timeouts.len(),
            crashes,
            error: None,
        });
    }
    let _ = std::fs::remove_dir_all(&work);
    if !problems.is_empty() {
        report.reason = Some(problems.join("; "));
    }
    Ok(())
}

/// Fetch (once), verify (always) and unpack a fixture into a fresh directory.
fn prepare_fixture(host: &Host<'_>, id: &str) -> Result<(PathBuf, Fixture), String> {
    let fixture = host
        .loaded
        .adapter
        .fixtures
        .iter()
        .find(|f| f.id == id)
        .cloned()
        .ok_or_else(|| format!("no fixture `{id}` in the adapter"))?;
    let store = FixtureStore::open(&host.state_dir)
        .map_err(|e| format!("cannot open the fixture cache: {e}"))?;
    let cached = store
        .fetch(&fixture, host.loaded.dir())
        .map_err(|e| crate::error::chain(&e))?;
    let dest = host.state_dir.join("work").join(format!(
        "fixture-{id}-{}-{}",
        std::process::id(),
        now().0
    ));
    ironworks_cache::unpack(&fixture, &cached, &dest).map_err(|e| crate::error::chain(&e))?;
    Ok((dest, fixture))
}

fn cleanup(dirs: &[PathBuf]) {
    for dir in dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Record the verdict, write the reports, and raise a required failure.
fn finish(
    host: &mut Host<'_>,
    mut report: HardenReport,
    snapshot: &SnapshotRecord,
    run: Option<i64>,
) -> Result<HardenReport, Failure> {
    report.run = run;
    report.verdict = if report.reason.is_none() {
        "green"
    } else {
        "red"
    }
    .into();
    let project = report.project.clone();
    let last_green = host.store.last_green_harden_run(&project, &report.job)?;
    if let Some(run) = run {
        let report_path = write_report(
            &crate::runner::run_dir(&host.state_dir, RunId(run)),
            &report,
        )?;
        let started = host
            .store
            .run(RunId(run))?
            .expect("recorded")
            .run
            .started_at;
        host.store.record_harden_run(
            &project,
            &report.job,
            snapshot.id,
            run,
            &report.verdict,
            &report_path,
            started,
        )?;
    }
    if report.verdict == "red" && report.gate == Gate::Required {
        unhealthy(
            host,
            &report,
            last_green.map(|g| (g.snapshot, g.commit)),
            run,
        )?;
    }
    Ok(report)
}

/// A required harden failure: the project is unhealthy; say where to look.
fn unhealthy(
    host: &mut Host<'_>,
    report: &HardenReport,
    last_green: Option<(i64, String)>,
    run: Option<i64>,
) -> Result<(), Failure> {
    let summary = format!(
        "harden `{}` failed on snapshot {} ({}){}: {}; last green for this job: {}; log: {}",
        report.job,
        report.snapshot,
        short(&report.commit),
        report
            .fixture
            .as_ref()
            .map(|f| format!(
                " with fixture `{}` (sha256 {})",
                f.id,
                &f.sha256[..16.min(f.sha256.len())]
            ))
            .or_else(|| job_fixture_note(report))
            .unwrap_or_default(),
        report.reason.as_deref().unwrap_or("failed"),
        last_green.map_or("never".to_owned(), |(id, commit)| format!(
            "snapshot {id} ({})",
            short(&commit)
        )),
        report.log.as_deref().unwrap_or("-"),
    );
    host.store.add_triage(&NewTriage {
        project: report.project.clone(),
        kind: "harden-failure".into(),
        snapshot: Some(report.snapshot),
        prs: Vec::new(),
        job: Some(report.job.clone()),
        runs: run.into_iter().collect(),
        summary: summary.clone(),
        at: now(),
    })?;
    host.progress.note(&summary);
    Ok(())
}

/// A fixture that failed verification has no `fixture` use; name it from the reason.
fn job_fixture_note(report: &HardenReport) -> Option<String> {
    report
        .reason
        .as_deref()
        .filter(|r| r.starts_with("nothing was run"))
        .map(|_| " (fixture not verified)".to_owned())
}

fn write_report(dir: &Path, report: &HardenReport) -> Result<String, Failure> {
    let io = |e: std::io::Error| {
        Failure::environment(format!(
            "cannot write the harden report in {}: {e}",
            dir.display()
        ))
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let json = dir.join("report.json");
    std::fs::write(
        &json,
        serde_json::to_vec_pretty(report).expect("serializes"),
    )
    .map_err(io)?;
    let mut md = format!(
        "# Harden report: `{}` on snapshot {}\n\n- verdict: **{}**\n- kind: {:?}, gate: {}\n- commit: `{}`\n- run: {}\n- argv: `{}`\n- wall time: {} ms\n- peak memory: {} KiB\n- log: `{}`\n",
        report.job,
        report.snapshot,
        report.verdict,
        report.kind,
        report.gate,
        report.commit,
        report.run.map_or("-".into(), |r| r.to_string()),
        report.argv.join(" "),
        report.wall_ms.unwrap_or(0),
        report
            .peak_rss_kb
            .map_or("-".to_owned(), |kb| kb.to_string()),
        report.log.as_deref().unwrap_or("-"),
    );
    if let Some(fixture) = &report.fixture {
        md.push_str(&format!(
            "- fixture: `{}` sha256 `{}` ({} bytes)\n",
            fixture.id, fixture.sha256, fixture.size
        ));
    }
    if let Some(reason) = &report.reason {
        md.push_str(&format!("- reason: {reason}\n"));
    }
    if !report.fuzz.is_empty() {
        md.push_str("\n| target | execs | coverage | new inputs | corpus | crashes | timeouts |\n|---|---|---|---|---|---|---|\n");
        for t in &report.fuzz {
            md.push_str(&format!(
                "| `{}` | {} | {} | {} | {} -> {} | {} | {} |\n",
                t.target,
                t.stats.execs.map_or("-".into(), |x| x.to_string()),
                t.stats.coverage.map_or("-".into(), |x| x.to_string()),
                t.new_inputs,
                t.corpus_before,
                t.corpus_after,
                t.crashes
                    .iter()
                    .map(|c| format!("{}{}", c.crash_type, if c.new { " (new)" } else { "" }))
                    .collect::<Vec<_>>()
                    .join(", "),
                t.timeouts + usize::from(t.timed_out),
            ));
        }
    }
    if !report.releases.is_empty() {
        md.push_str("\n| previous release | sha256 | run | verdict |\n|---|---|---|---|\n");
        for r in &report.releases {
            md.push_str(&format!(
                "| `{}` | `{}` | {} | {} |\n",
                r.release,
                &r.sha256[..16.min(r.sha256.len())],
                r.run.map_or("-".into(), |x| x.to_string()),
                r.verdict
            ));
        }
    }
    if !report.assertions.is_empty() {
        md.push_str("\n| pointer | expected | actual | |\n|---|---|---|---|\n");
        for a in &report.assertions {
            md.push_str(&format!(
                "| `{}` | `{}` | `{}` | {} |\n",
                a.pointer,
                a.expected,
                a.actual.as_ref().map_or("-".into(), |v| v.to_string()),
                if a.passed { "ok" } else { "FAIL" }
            ));
        }
    }
    std::fs::write(dir.join("report.md"), md).map_err(io)?;
    Ok(json.display().to_string())
}

//! Running libFuzzer-style fuzz binaries: target discovery, one budgeted run
//! of one target, reproduction of what it found, and corpus merging.
//!
//! Every process goes through [`supervise`], so each has a hard wall-clock
//! limit and its whole process group is reaped (libFuzzer's `-merge=1` starts
//! children of its own). The decisions — stats, crash kinds, signatures,
//! deduplication — are `ironworks_core::fuzz`'s; this module only runs
//! things and moves files.
//!
//! Layout of a run's scratch directory (`FuzzJob::work_dir`):
//!
//! ```text
//! fuzz.log           the fuzzing run's output
//! new/               inputs the run added (libFuzzer writes to its first corpus dir)
//! artifacts/         crash-*, timeout-*, oom-*, leak-* (-artifact_prefix)
//! repro/NAME.log     the reproduction of artifact NAME
//! merge.log          the corpus merge
//! tmp/               TMPDIR of every process (libFuzzer's merge control file)
//! ```

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::watch;

use ironworks_core::fuzz::{
    self as core, ArtifactKind, CrashKind, CrashReport, CrashSignature, FuzzStats, MergeSummary,
};
use ironworks_core::gate::Ending;

use crate::supervise::{Cancel, Finished, Launch, supervise};

/// Limits of one target's run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FuzzLimits {
    /// `-max_total_time`: how long to fuzz.
    pub budget: Duration,
    /// `-runs`, when the run should also stop after this many inputs.
    pub runs: Option<u64>,
    /// `-timeout`: one input running longer is a hang (whole seconds, at
    /// least 1).
    pub input_timeout: Duration,
    /// `-rss_limit_mb`.
    pub rss_limit_mb: u64,
    /// Wall-clock allowance over `budget + input_timeout` (start-up, loading
    /// the corpus, final stats) before the process group is killed.
    pub slack: Duration,
    /// SIGTERM to SIGKILL, as for any job.
    pub grace: Duration,
    /// Wall-clock limit of the corpus merge.
    pub merge_timeout: Duration,
    /// `-set_cover_merge=1` instead of `-merge=1` (clang 15 and later).
    pub set_cover_merge: bool,
}

impl Default for FuzzLimits {
    fn default() -> Self {
        FuzzLimits {
            budget: Duration::from_secs(60),
            runs: None,
            input_timeout: Duration::from_secs(25),
            rss_limit_mb: 2560,
            slack: Duration::from_secs(30),
            grace: Duration::from_secs(5),
            merge_timeout: Duration::from_secs(600),
            set_cover_merge: false,
        }
    }
}

/// One target of one fuzz binary, run against a persistent corpus.
#[derive(Debug, Clone)]
pub struct FuzzJob {
    /// The fuzz binary (made absolute before use: libFuzzer's merge re-runs
    /// `argv[0]`).
    pub binary: PathBuf,
    pub target: String,
    /// Scratch directory of this run, see the module docs. Created if
    /// missing; must not hold an earlier run.
    pub work_dir: PathBuf,
    /// The persistent corpus, owned by the caller: read, then replaced by the
    /// merged corpus. Created if missing.
    pub corpus: PathBuf,
    /// Read-only seed corpora (e.g. a fixture), fuzzed and merged in.
    pub seeds: Vec<PathBuf>,
    /// The job's declared environment; `FUZZ` and `TMPDIR` are set on top,
    /// `UBSAN_OPTIONS` defaults to stack traces and halting on error.
    pub env: Vec<(String, String)>,
    /// More libFuzzer flags for the fuzzing run (e.g. `-dict=…`,
    /// `-max_len=…`), after Ironworks' own, so they can override them.
    pub extra_args: Vec<String>,
    pub limits: FuzzLimits,
}

/// One crash artifact, reproduced and classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crash {
    pub signature: CrashSignature,
    pub kind: CrashKind,
    /// What libFuzzer called the file (`crash-…`, `timeout-…`).
    pub artifact: ArtifactKind,
    /// The input, in the run's `artifacts/` directory.
    pub reproducer: PathBuf,
    /// Running the binary on the reproducer alone failed the same way.
    pub reproduced: bool,
    /// The log the classification was read from.
    pub log: PathBuf,
}

/// What one target's run did.
#[derive(Debug, Clone)]
pub struct FuzzOutcome {
    pub target: String,
    pub stats: FuzzStats,
    /// How the fuzzing process ended.
    pub ending: Ending,
    /// Crashes, leaks and out-of-memory: findings.
    pub crashes: Vec<Crash>,
    /// Inputs that hit `-timeout`: reported as hangs, never as crashes.
    pub timeouts: Vec<Crash>,
    /// The run outlived its wall-clock limit and its process group was
    /// killed.
    pub timed_out: bool,
    /// Files the run added to `new/`.
    pub new_inputs: usize,
    /// Files in the seed corpora.
    pub seed_inputs: usize,
    /// Files in the persistent corpus before and after the merge.
    pub corpus_before: usize,
    pub corpus_after: usize,
    pub merge: Option<MergeSummary>,
    pub log: PathBuf,
}

/// What a corpus merge did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeOutcome {
    pub before: usize,
    pub after: usize,
    pub summary: Option<MergeSummary>,
    pub log: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum FuzzError {
    #[error("`{0}` is not a valid fuzz target name")]
    InvalidTarget(String),
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("work dir {} already holds a fuzz run; give each run a fresh one", .0.display())]
    WorkDirUsed(PathBuf),
    #[error("cannot run fuzz binary {}: {reason}", binary.display())]
    Spawn { binary: PathBuf, reason: String },
    #[error("listing the targets of {} {}; see {}", binary.display(), ending, log.display())]
    ListFailed {
        binary: PathBuf,
        ending: String,
        log: PathBuf,
    },
    #[error("{} listed no fuzz targets (is PRINT_ALL_FUZZ_TARGETS_AND_ABORT supported?); see {}", binary.display(), log.display())]
    NoTargets { binary: PathBuf, log: PathBuf },
    #[error("fuzz target `{target}` {ending} without leaving a crash artifact; see {}", log.display())]
    RunFailed {
        target: String,
        ending: String,
        log: PathBuf,
    },
    #[error("corpus merge for `{target}` {ending}; the corpus was left as it was; see {}", log.display())]
    MergeFailed {
        target: String,
        ending: String,
        log: PathBuf,
    },
    #[error("the fuzz run was cancelled")]
    Cancelled,
}

/// The targets of a Bitcoin-Core-style fuzz binary: run it with
/// `PRINT_ALL_FUZZ_TARGETS_AND_ABORT=1` and read one name a line.
pub async fn list_targets(
    binary: &Path,
    work_dir: &Path,
    env: &[(String, String)],
    timeout: Duration,
    cancel: watch::Receiver<Cancel>,
) -> Result<Vec<String>, FuzzError> {
    let binary = absolute(binary)?;
    create_dir(work_dir)?;
    let log = work_dir.join("targets.log");
    let mut env = without(env, &[core::TARGET_ENV, core::LIST_TARGETS_ENV]);
    env.push((core::LIST_TARGETS_ENV.into(), "1".into()));
    let finished = run(
        Launch {
            argv: vec![path_arg(&binary)],
            cwd: work_dir.to_path_buf(),
            env,
            log: log.clone(),
            timeout,
            grace: Duration::from_secs(2),
        },
        cancel,
        &binary,
    )
    .await?;
    if finished.ending != Ending::Exited(0) {
        return Err(FuzzError::ListFailed {
            binary,
            ending: describe(&finished.ending),
            log,
        });
    }
    let targets = core::parse_target_list(&read_log(&log)?);
    if targets.is_empty() {
        return Err(FuzzError::NoTargets { binary, log });
    }
    Ok(targets)
}

/// Fuzz one target within its limits, reproduce and classify every artifact,
/// then merge what it found into the persistent corpus.
pub async fn run_target(
    job: &FuzzJob,
    cancel: watch::Receiver<Cancel>,
) -> Result<FuzzOutcome, FuzzError> {
    if !core::is_valid_target_name(&job.target) {
        return Err(FuzzError::InvalidTarget(job.target.clone()));
    }
    let binary = absolute(&job.binary)?;
    let work = absolute(&job.work_dir)?;
    let log = work.join("fuzz.log");
    if log.exists() {
        return Err(FuzzError::WorkDirUsed(work));
    }
    let new = work.join("new");
    let artifacts = work.join("artifacts");
    for dir in [
        &work,
        &new,
        &artifacts,
        &work.join("tmp"),
        &work.join("repro"),
    ] {
        create_dir(dir)?;
    }
    let corpus = absolute(&job.corpus)?;
    recover_corpus(&corpus)?;
    create_dir(&corpus)?;
    let seeds = job
        .seeds
        .iter()
        .map(|s| absolute(s))
        .collect::<Result<Vec<_>, _>>()?;
    let corpus_before = count_files(&corpus)?;
    let mut seed_inputs = 0;
    for seed in &seeds {
        seed_inputs += count_files(seed)?;
    }

    let limits = &job.limits;
    let mut argv = vec![
        path_arg(&binary),
        format!("-max_total_time={}", whole_secs(limits.budget)),
        format!("-timeout={}", whole_secs(limits.input_timeout)),
        format!("-rss_limit_mb={}", limits.rss_limit_mb),
        format!("-artifact_prefix={}/", artifacts.display()),
        "-print_final_stats=1".into(),
    ];
    if let Some(runs) = limits.runs {
        argv.push(format!("-runs={runs}"));
    }
    argv.extend(job.extra_args.iter().cloned());
    // New inputs go to the first directory; the others are only read.
    argv.push(path_arg(&new));
    argv.push(path_arg(&corpus));
    argv.extend(seeds.iter().map(|s| path_arg(s)));
    let finished = run(
        Launch {
            argv,
            cwd: work.clone(),
            env: job_env(job, &work),
            log: log.clone(),
            timeout: limits.budget + limits.input_timeout + limits.slack,
            grace: limits.grace,
        },
        cancel.clone(),
        &binary,
    )
    .await?;
    if finished.ending == Ending::Cancelled {
        return Err(FuzzError::Cancelled);
    }
    let timed_out = finished.ending == Ending::TimedOut;
    let run_log = read_log(&log)?;
    let stats = core::parse_stats(&run_log);

    let mut found = Vec::new();
    for entry in read_dir_sorted(&artifacts)? {
        let Some(name) = entry.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        match ArtifactKind::from_file_name(name) {
            Some(ArtifactKind::SlowUnit) | None => {}
            Some(kind) => found.push((kind, entry)),
        }
    }
    if found.is_empty() && !timed_out && finished.ending != Ending::Exited(0) {
        return Err(FuzzError::RunFailed {
            target: job.target.clone(),
            ending: describe(&finished.ending),
            log,
        });
    }

    let mut crashes = Vec::new();
    let mut timeouts = Vec::new();
    for (artifact, input) in found {
        let crash = reproduce(
            job, &binary, &work, artifact, input, &run_log, &log, &cancel,
        )
        .await?;
        if crash.kind.is_crash() {
            crashes.push(crash);
        } else {
            timeouts.push(crash);
        }
    }

    let new_inputs = count_files(&new)?;
    let mut inputs = vec![new];
    inputs.extend(seeds);
    let merge = merge_into(job, &binary, &work, &corpus, &inputs, cancel).await?;
    Ok(FuzzOutcome {
        target: job.target.clone(),
        stats,
        ending: finished.ending,
        crashes,
        timeouts,
        timed_out,
        new_inputs,
        seed_inputs,
        corpus_before,
        corpus_after: merge.after,
        merge: merge.summary,
        log,
    })
}

/// Merge `inputs` into the job's persistent corpus, minimising it: libFuzzer
/// `-merge=1` (or `-set_cover_merge=1`) into a fresh directory next to the
/// corpus, which then replaces it. With no extra inputs this re-minimises the
/// corpus alone. Logs to `merge.log` in the job's work dir.
pub async fn merge_corpus(
    job: &FuzzJob,
    inputs: &[PathBuf],
    cancel: watch::Receiver<Cancel>,
) -> Result<MergeOutcome, FuzzError> {
    if !core::is_valid_target_name(&job.target) {
        return Err(FuzzError::InvalidTarget(job.target.clone()));
    }
    let binary = absolute(&job.binary)?;
    let work = absolute(&job.work_dir)?;
    create_dir(&work)?;
    create_dir(&work.join("tmp"))?;
    let corpus = absolute(&job.corpus)?;
    recover_corpus(&corpus)?;
    create_dir(&corpus)?;
    let inputs = inputs
        .iter()
        .map(|i| absolute(i))
        .collect::<Result<Vec<_>, _>>()?;
    merge_into(job, &binary, &work, &corpus, &inputs, cancel).await
}

async fn merge_into(
    job: &FuzzJob,
    binary: &Path,
    work: &Path,
    corpus: &Path,
    inputs: &[PathBuf],
    cancel: watch::Receiver<Cancel>,
) -> Result<MergeOutcome, FuzzError> {
    let log = work.join("merge.log");
    let before = count_files(corpus)?;
    let mut total = before;
    for input in inputs {
        total += count_files(input)?;
    }
    if total == 0 {
        // Nothing to merge; libFuzzer would only complain.
        return Ok(MergeOutcome {
            before,
            after: 0,
            summary: None,
            log,
        });
    }
    // A sibling of the corpus, so that replacing it is a rename.
    let (fresh, old) = corpus_siblings(corpus)?;
    if fresh.exists() {
        remove_dir(&fresh)?;
    }
    create_dir(&fresh)?;
    let mode = if job.limits.set_cover_merge {
        "-set_cover_merge=1"
    } else {
        "-merge=1"
    };
    let mut argv = vec![
        path_arg(binary),
        mode.into(),
        format!("-timeout={}", whole_secs(job.limits.input_timeout)),
        format!("-rss_limit_mb={}", job.limits.rss_limit_mb),
        // Crashing inputs met while merging are skipped, not kept.
        format!("-artifact_prefix={}/", work.join("tmp").display()),
        path_arg(&fresh),
        path_arg(corpus),
    ];
    argv.extend(inputs.iter().map(|i| path_arg(i)));
    let finished = run(
        Launch {
            argv,
            cwd: work.to_path_buf(),
            env: job_env(job, work),
            log: log.clone(),
            timeout: job.limits.merge_timeout,
            grace: job.limits.grace,
        },
        cancel,
        binary,
    )
    .await?;
    match finished.ending {
        Ending::Exited(0) => {}
        Ending::Cancelled => {
            remove_dir(&fresh)?;
            return Err(FuzzError::Cancelled);
        }
        ending => {
            remove_dir(&fresh)?;
            return Err(FuzzError::MergeFailed {
                target: job.target.clone(),
                ending: describe(&ending),
                log,
            });
        }
    }
    let summary = core::parse_merge_summary(&read_log(&log)?);
    // Swap: corpus -> old, fresh -> corpus, drop old. A crash in between
    // leaves `old`, which recover_corpus puts back.
    rename(corpus, &old)?;
    rename(&fresh, corpus)?;
    remove_dir(&old)?;
    Ok(MergeOutcome {
        before,
        after: count_files(corpus)?,
        summary,
        log,
    })
}

/// Run the binary on one artifact alone and classify what it does.
#[allow(clippy::too_many_arguments)]
async fn reproduce(
    job: &FuzzJob,
    binary: &Path,
    work: &Path,
    artifact: ArtifactKind,
    input: PathBuf,
    run_log: &str,
    run_log_path: &Path,
    cancel: &watch::Receiver<Cancel>,
) -> Result<Crash, FuzzError> {
    let name = input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let repro_dir = work.join("repro");
    let log = repro_dir.join(format!("{name}.log"));
    let limits = &job.limits;
    let finished = run(
        Launch {
            argv: vec![
                path_arg(binary),
                format!("-timeout={}", whole_secs(limits.input_timeout)),
                format!("-rss_limit_mb={}", limits.rss_limit_mb),
                // A reproduction may write the artifact again; not among
                // the run's artifacts.
                format!("-artifact_prefix={}/", repro_dir.display()),
                path_arg(&input),
            ],
            cwd: work.to_path_buf(),
            env: job_env(job, work),
            log: log.clone(),
            timeout: limits.input_timeout + limits.slack,
            grace: limits.grace,
        },
        cancel.clone(),
        binary,
    )
    .await?;
    if finished.ending == Ending::Cancelled {
        return Err(FuzzError::Cancelled);
    }
    let repro = classify(&read_log(&log)?, artifact);
    let failed = finished.ending != Ending::Exited(0);
    let (report, reproduced, log) = match repro {
        Some(report) if failed => (report, true, log),
        // Not reproduced (flaky, or depends on state built up by earlier
        // inputs): keep what the fuzzing run printed.
        _ => match classify(run_log, artifact) {
            Some(report) => (report, false, run_log_path.to_path_buf()),
            None => (fallback_report(artifact), false, log),
        },
    };
    Ok(Crash {
        signature: CrashSignature::new(&job.target, &report),
        kind: report.kind,
        artifact,
        reproducer: input,
        reproduced,
        log,
    })
}

/// A report of the right family for the artifact: a `timeout-` file must not
/// be classified by an unrelated crash report, nor a `crash-` file by a hang.
fn classify(log: &str, artifact: ArtifactKind) -> Option<CrashReport> {
    let report = core::classify_crash(log)?;
    let fits = match artifact {
        ArtifactKind::Timeout => report.kind == CrashKind::Timeout,
        _ => report.kind.is_crash(),
    };
    fits.then_some(report)
}

fn fallback_report(artifact: ArtifactKind) -> CrashReport {
    let kind = match artifact {
        ArtifactKind::Timeout => CrashKind::Timeout,
        ArtifactKind::OutOfMemory => CrashKind::OutOfMemory,
        ArtifactKind::Leak => CrashKind::Leak,
        ArtifactKind::Crash | ArtifactKind::SlowUnit => CrashKind::Other("unknown".into()),
    };
    CrashReport {
        kind,
        frames: Vec::new(),
        headline: String::new(),
    }
}

async fn run(
    launch: Launch,
    cancel: watch::Receiver<Cancel>,
    binary: &Path,
) -> Result<Finished, FuzzError> {
    let finished = supervise(launch, cancel).await;
    if let Ending::SpawnFailed(reason) = &finished.ending {
        return Err(FuzzError::Spawn {
            binary: binary.to_path_buf(),
            reason: reason.clone(),
        });
    }
    Ok(finished)
}

fn job_env(job: &FuzzJob, work: &Path) -> Vec<(String, String)> {
    let mut env = without(
        &job.env,
        &[core::TARGET_ENV, core::LIST_TARGETS_ENV, "TMPDIR"],
    );
    env.push((core::TARGET_ENV.into(), job.target.clone()));
    env.push(("TMPDIR".into(), path_arg(&work.join("tmp"))));
    if !env.iter().any(|(k, _)| k == "UBSAN_OPTIONS") {
        // Without these UBSan prints no stack (no signature) and, built
        // without -fno-sanitize-recover, carries on past the bug.
        env.push((
            "UBSAN_OPTIONS".into(),
            "print_stacktrace=1:halt_on_error=1:report_error_type=1".into(),
        ));
    }
    env
}

fn without(env: &[(String, String)], keys: &[&str]) -> Vec<(String, String)> {
    env.iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .cloned()
        .collect()
}

fn describe(ending: &Ending) -> String {
    match ending {
        Ending::Exited(code) => format!("exited with code {code}"),
        Ending::Signaled(signal) => format!("was killed by signal {signal}"),
        Ending::TimedOut => "timed out".into(),
        Ending::Cancelled => "was cancelled".into(),
        Ending::SpawnFailed(reason) => format!("could not start: {reason}"),
    }
}

/// Whole seconds for libFuzzer flags, at least 1 (0 means "no limit" there).
fn whole_secs(d: Duration) -> u64 {
    (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
}

fn path_arg(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn absolute(path: &Path) -> Result<PathBuf, FuzzError> {
    std::path::absolute(path).map_err(|source| FuzzError::Io {
        what: "cannot resolve",
        path: path.to_path_buf(),
        source,
    })
}

/// `.<name>.merging` and `.<name>.old` next to the corpus.
fn corpus_siblings(corpus: &Path) -> Result<(PathBuf, PathBuf), FuzzError> {
    let (Some(parent), Some(name)) = (corpus.parent(), corpus.file_name()) else {
        return Err(FuzzError::Io {
            what: "corpus must be a named directory:",
            path: corpus.to_path_buf(),
            source: io::Error::from(io::ErrorKind::InvalidInput),
        });
    };
    let name = name.to_string_lossy();
    Ok((
        parent.join(format!(".{name}.merging")),
        parent.join(format!(".{name}.old")),
    ))
}

/// Finish a replacement interrupted between its two renames.
fn recover_corpus(corpus: &Path) -> Result<(), FuzzError> {
    let (_, old) = corpus_siblings(corpus)?;
    if old.is_dir() {
        if corpus.exists() {
            remove_dir(&old)?;
        } else {
            rename(&old, corpus)?;
        }
    }
    Ok(())
}

fn count_files(dir: &Path) -> Result<usize, FuzzError> {
    Ok(read_dir_sorted(dir)?.iter().filter(|p| p.is_file()).count())
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, FuzzError> {
    let io_err = |source| FuzzError::Io {
        what: "cannot read directory",
        path: dir.to_path_buf(),
        source,
    };
    let mut paths = fs::read_dir(dir)
        .map_err(io_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io_err)?;
    paths.sort();
    Ok(paths)
}

fn read_log(path: &Path) -> Result<String, FuzzError> {
    fs::read(path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|source| FuzzError::Io {
            what: "cannot read log",
            path: path.to_path_buf(),
            source,
        })
}

fn create_dir(dir: &Path) -> Result<(), FuzzError> {
    fs::create_dir_all(dir).map_err(|source| FuzzError::Io {
        what: "cannot create directory",
        path: dir.to_path_buf(),
        source,
    })
}

fn remove_dir(dir: &Path) -> Result<(), FuzzError> {
    fs::remove_dir_all(dir).map_err(|source| FuzzError::Io {
        what: "cannot remove directory",
        path: dir.to_path_buf(),
        source,
    })
}

fn rename(from: &Path, to: &Path) -> Result<(), FuzzError> {
    fs::rename(from, to).map_err(|source| FuzzError::Io {
        what: "cannot replace corpus with",
        path: from.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libfuzzer_seconds_round_up_and_never_zero() {
        assert_eq!(whole_secs(Duration::ZERO), 1);
        assert_eq!(whole_secs(Duration::from_millis(1500)), 2);
        assert_eq!(whole_secs(Duration::from_secs(3)), 3);
    }

    #[test]
    fn job_env_sets_target_and_keeps_declared_options() {
        let job = FuzzJob {
            binary: "fuzz".into(),
            target: "parse_block".into(),
            work_dir: "/w".into(),
            corpus: "/c".into(),
            seeds: vec![],
            extra_args: vec![],
            env: vec![
                ("FUZZ".into(), "other".into()),
                ("PATH".into(), "/usr/bin".into()),
                ("UBSAN_OPTIONS".into(), "halt_on_error=0".into()),
            ],
            limits: FuzzLimits::default(),
        };
        let env = job_env(&job, Path::new("/w"));
        let get = |k: &str| {
            env.iter()
                .filter(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
                .collect::<Vec<_>>()
        };
        assert_eq!(get("FUZZ"), ["parse_block"]);
        assert_eq!(get("TMPDIR"), ["/w/tmp"]);
        assert_eq!(get("UBSAN_OPTIONS"), ["halt_on_error=0"]);
        assert_eq!(get("PATH"), ["/usr/bin"]);
    }

    #[test]
    fn interrupted_corpus_swap_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        let old = dir.path().join(".corpus.old");
        fs::create_dir(&old).unwrap();
        fs::write(old.join("a"), "x").unwrap();
        recover_corpus(&corpus).unwrap();
        assert_eq!(count_files(&corpus).unwrap(), 1);
        assert!(!old.exists());
    }
}

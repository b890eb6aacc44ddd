//! End-to-end fuzzing against the real toynode harness: built with
//! `make fuzz` (clang, libFuzzer, ASan, UBSan) in a copy of
//! `examples/toynode`, then discovered, fuzzed, reproduced and merged through
//! `ironworks_exec::fuzz`.
//!
//! Without clang the tests say so and pass; set `IRONWORKS_REQUIRE_FUZZ=1`
//! (CI does) to make a missing clang a failure instead.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use ironworks_core::fuzz::{ArtifactKind, CrashKind, KnownCrashes};
use ironworks_exec::fuzz::{
    FuzzError, FuzzJob, FuzzLimits, list_targets, merge_corpus, run_target,
};
use ironworks_exec::reaper;
use ironworks_exec::supervise::Cancel;

fn toynode() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/toynode")
}

/// The harness binary, built once per test process; `None` (skip) without
/// clang.
fn harness() -> Option<&'static Path> {
    // As the runner does: ASan's llvm-symbolizer outlives a crashing fuzzer
    // for a moment; as its reaper we see it go at once instead of waiting
    // out the grace period for a zombie nobody reaps.
    reaper::become_subreaper().expect("become a child subreaper");
    static BUILT: OnceLock<Option<PathBuf>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let has_clang = Command::new("clang")
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success());
            if !has_clang {
                assert!(
                    std::env::var_os("IRONWORKS_REQUIRE_FUZZ").is_none(),
                    "IRONWORKS_REQUIRE_FUZZ is set but clang is not installed"
                );
                // Straight to stderr: the test harness captures eprintln!,
                // and a skip must be seen.
                let _ = writeln!(
                    std::io::stderr(),
                    "SKIPPED ironworks-exec fuzz tests: clang is not installed, so the \
                     toynode fuzz harness cannot be built \
                     (apt-get install clang libclang-rt-14-dev)"
                );
                return None;
            }
            // nextest runs every test in a process of its own, so the
            // OnceLock only shares the build within one process: each
            // process builds in a directory of its own.
            let copy = Path::new(env!("CARGO_TARGET_TMPDIR"))
                .join(format!("toynode-fuzz-{}", std::process::id()));
            let _ = fs::remove_dir_all(&copy);
            for part in ["Makefile", "src", "fuzz"] {
                copy_tree(&toynode().join(part), &copy.join(part));
            }
            let out = Command::new("make")
                .arg("-C")
                .arg(&copy)
                .arg("fuzz")
                .output()
                .expect("run make");
            assert!(
                out.status.success(),
                "make fuzz failed (is libclang-rt-14-dev installed?):\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            Some(copy.join("build-fuzz/fuzz"))
        })
        .as_deref()
}

fn copy_tree(from: &Path, to: &Path) {
    if from.is_dir() {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &to.join(entry.file_name()));
        }
    } else {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(from, to).unwrap();
    }
}

fn job(binary: &Path, target: &str, dir: &Path, work: &str, limits: FuzzLimits) -> FuzzJob {
    FuzzJob {
        binary: binary.to_path_buf(),
        target: target.into(),
        work_dir: dir.join(work),
        corpus: dir.join("corpus"),
        seeds: vec![],
        // PATH so that ASan finds llvm-symbolizer: no names, no signatures.
        env: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
        extra_args: vec![],
        limits,
    }
}

fn limits(budget_secs: u64, input_timeout_secs: u64) -> FuzzLimits {
    FuzzLimits {
        budget: Duration::from_secs(budget_secs),
        input_timeout: Duration::from_secs(input_timeout_secs),
        rss_limit_mb: 2048,
        slack: Duration::from_secs(10),
        grace: Duration::from_secs(2),
        merge_timeout: Duration::from_secs(60),
        ..FuzzLimits::default()
    }
}

fn no_cancel() -> watch::Receiver<Cancel> {
    // The sender is dropped: never cancelled.
    watch::channel(Cancel::No).1
}

#[tokio::test]
async fn discovery_lists_the_targets() {
    let Some(binary) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let targets = list_targets(
        binary,
        dir.path(),
        &[],
        Duration::from_secs(30),
        no_cancel(),
    )
    .await
    .unwrap();
    assert_eq!(targets, ["canary", "hang", "parse_block", "replay_chain"]);
}

#[tokio::test]
async fn parse_block_grows_the_corpus_and_the_merge_keeps_it_minimal() {
    let Some(binary) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut first = job(binary, "parse_block", dir.path(), "run-1", limits(3, 5));
    first.seeds = vec![toynode().join("fuzz/corpus/parse_block")];
    let outcome = run_target(&first, no_cancel()).await.unwrap();

    assert!(outcome.crashes.is_empty(), "{:?}", outcome.crashes);
    assert!(outcome.timeouts.is_empty(), "{:?}", outcome.timeouts);
    assert!(!outcome.timed_out);
    assert!(
        outcome.stats.done,
        "no DONE line in {}",
        outcome.log.display()
    );
    assert!(outcome.stats.execs.unwrap() > 1000, "{:?}", outcome.stats);
    assert!(outcome.stats.coverage.unwrap() > 0);
    assert_eq!(outcome.seed_inputs, 3);
    assert_eq!(outcome.corpus_before, 0);
    assert!(outcome.new_inputs > 0, "fuzzing found nothing new");
    assert!(outcome.corpus_after > outcome.corpus_before, "{outcome:?}");
    assert!(
        outcome.corpus_after <= outcome.corpus_before + outcome.seed_inputs + outcome.new_inputs
    );
    assert!(
        outcome
            .merge
            .is_some_and(|m| m.new_files as usize == outcome.corpus_after)
    );

    // Merging the corpus with nothing new does not grow it.
    let again = job(binary, "parse_block", dir.path(), "merge-2", limits(3, 5));
    let merged = merge_corpus(&again, &[], no_cancel()).await.unwrap();
    assert_eq!(merged.before, outcome.corpus_after);
    assert!(merged.after <= merged.before, "{merged:?}");
    assert!(merged.after > 0);

    // A used work dir is refused rather than mixed up.
    let err = run_target(&first, no_cancel()).await.unwrap_err();
    assert!(
        err.to_string().contains("already holds a fuzz run"),
        "{err}"
    );
}

#[tokio::test]
async fn canary_crash_is_found_reproduced_and_deduplicated() {
    let Some(binary) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut known = KnownCrashes::new();
    let mut signatures = Vec::new();
    for run in ["run-1", "run-2"] {
        let clock = Instant::now();
        let outcome = run_target(
            &job(binary, "canary", dir.path(), run, limits(20, 5)),
            no_cancel(),
        )
        .await
        .unwrap();
        assert!(
            clock.elapsed() < Duration::from_secs(20),
            "{run}: not found in budget"
        );
        assert!(!outcome.timed_out);
        assert!(outcome.timeouts.is_empty());
        assert_eq!(outcome.crashes.len(), 1, "{run}: {outcome:?}");
        let crash = &outcome.crashes[0];
        assert!(crash.reproduced, "{run}: see {}", crash.log.display());
        assert_eq!(crash.artifact, ArtifactKind::Crash);
        assert_eq!(
            crash.kind,
            CrashKind::Sanitizer {
                tool: "AddressSanitizer".into(),
                bug: "heap-buffer-overflow".into()
            }
        );
        assert_eq!(crash.signature.target, "canary");
        assert_eq!(
            crash.signature.frames,
            ["canary_peek", "fuzz_canary", "LLVMFuzzerTestOneInput"]
        );
        assert!(fs::read(&crash.reproducer).unwrap().starts_with(b"FUZZ"));
        signatures.push(crash.signature.clone());
    }
    // The first run's crash is a new finding; the second run's is the same.
    assert!(known.insert(&signatures[0]));
    assert!(!known.insert(&signatures[1]));
    assert_eq!(signatures[0], signatures[1]);
}

/// A seed corpus whose only input makes the `hang` target spin forever.
fn hang_seed(dir: &Path) -> PathBuf {
    let seeds = dir.join("seeds");
    fs::create_dir_all(&seeds).unwrap();
    fs::write(seeds.join("hang"), "HANG").unwrap();
    seeds
}

#[tokio::test]
async fn hanging_input_is_a_timeout_not_a_crash() {
    let Some(binary) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut hang = job(binary, "hang", dir.path(), "run", limits(5, 1));
    hang.seeds = vec![hang_seed(dir.path())];
    let outcome = run_target(&hang, no_cancel()).await.unwrap();

    assert!(outcome.crashes.is_empty(), "{:?}", outcome.crashes);
    assert!(
        !outcome.timed_out,
        "libFuzzer's -timeout should have caught it"
    );
    assert_eq!(outcome.timeouts.len(), 1, "{outcome:?}");
    let timeout = &outcome.timeouts[0];
    assert_eq!(timeout.kind, CrashKind::Timeout);
    assert_eq!(timeout.artifact, ArtifactKind::Timeout);
    assert!(timeout.reproduced, "see {}", timeout.log.display());
    assert_eq!(timeout.signature.crash_type, "timeout");
    assert_eq!(timeout.signature.frames[0], "hang_forever");
    // The hanging seed is not merged into the corpus.
    assert_eq!(outcome.corpus_after, 0);
}

#[tokio::test]
async fn fuzzer_stuck_past_its_wall_clock_limit_is_killed_as_timeout() {
    let Some(binary) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut stuck = job(
        binary,
        "hang",
        dir.path(),
        "run",
        FuzzLimits {
            slack: Duration::from_secs(1),
            ..limits(1, 1)
        },
    );
    stuck.seeds = vec![hang_seed(dir.path())];
    // libFuzzer's own per-input alarm off: only the wall clock can stop it.
    stuck.extra_args = vec!["-timeout=0".into()];
    let clock = Instant::now();
    let outcome = run_target(&stuck, no_cancel()).await.unwrap();
    assert!(outcome.timed_out);
    assert!(outcome.crashes.is_empty(), "{:?}", outcome.crashes);
    assert!(outcome.timeouts.is_empty(), "{:?}", outcome.timeouts);
    // Killed at budget + input timeout + slack (3 s); it would never end.
    assert!(
        clock.elapsed() < Duration::from_secs(15),
        "{:?}",
        clock.elapsed()
    );
}

#[tokio::test]
async fn unknown_or_malformed_target_is_a_clear_error() {
    let Some(binary) = harness() else { return };
    let dir = tempfile::tempdir().unwrap();
    let err = run_target(
        &job(binary, "no_such_target", dir.path(), "run", limits(1, 1)),
        no_cancel(),
    )
    .await
    .unwrap_err();
    let FuzzError::RunFailed { target, log, .. } = &err else {
        panic!("unexpected error: {err}");
    };
    assert_eq!(target, "no_such_target");
    assert!(
        fs::read_to_string(log)
            .unwrap()
            .contains("unknown FUZZ target")
    );

    let err = run_target(
        &job(binary, "-runs=1", dir.path(), "run-2", limits(1, 1)),
        no_cancel(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, FuzzError::InvalidTarget(_)), "{err}");
    assert!(
        !dir.path().join("run-2").exists(),
        "nothing should have run"
    );
}

//! `ironworks run` end to end: real git repositories, real processes.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::*;

/// A job that starts a long-running child and waits; it writes the pids of
/// both to the scratch directory (`leader` last, as the "started" marker).
/// A second job needs it.
const LONG_JOB_WITH_CHILD: &str = r#"
[[job]]
name = "long"
stage = "spark"
grace = "2s"
env = { MARKS = "{TMP}" }
script = """
sleep 1000 &
echo $! > "$MARKS/child"
echo $$ > "$MARKS/leader.tmp"; mv "$MARKS/leader.tmp" "$MARKS/leader"
wait
"""

[[job]]
name = "after"
stage = "spark"
run = ["true"]
needs = ["long"]
"#;

const GREEN: &str = r#"
[[job]]
name = "build"
stage = "spark"
run = ["sh", "-c", "test -f src.txt && echo built"]

[[job]]
name = "check"
stage = "spark"
script = "grep -q hello src.txt"
"#;

#[test]
fn a_green_stage_exits_zero_and_is_recorded() {
    let p = Project::new(&adapter(GREEN), &[("src.txt", "hello\n")]);
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("spark GREEN — 2 passed"),
        "{}",
        text(&out)
    );

    let runs = p.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["status"], "green");
    assert_eq!(runs[0]["stage"], "spark");
    assert_eq!(
        runs[0]["commit"].as_str().unwrap(),
        git(&p.repo(), &["rev-parse", "HEAD"]).trim()
    );
    let detail = p.show(runs[0]["id"].as_i64().unwrap());
    let build = p.job(&detail, "build");
    assert_eq!(build["status"], "passed");
    assert_eq!(build["exit_code"], 0);
    let log = fs::read_to_string(build["log"].as_str().unwrap()).unwrap();
    assert_eq!(log, "built\n");
}

#[test]
fn a_red_stage_names_the_failing_job() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "fine"
stage = "spark"
run = ["true"]

[[job]]
name = "broken"
stage = "spark"
script = "echo 'assertion failed: 2 + 2 == 5' >&2; exit 3"
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("spark RED"), "{stdout}");
    assert!(stdout.contains("failed: broken (required)"), "{stdout}");
    assert!(stderr(&out).contains("broken"), "{}", text(&out));

    let detail = p.show(1);
    assert_eq!(detail["status"], "red");
    let broken = p.job(&detail, "broken");
    assert_eq!(broken["status"], "failed");
    assert_eq!(broken["exit_code"], 3);
    assert_eq!(broken["reason"], "exited with code 3");
    let log = fs::read_to_string(broken["log"].as_str().unwrap()).unwrap();
    assert!(log.contains("assertion failed"), "{log}");
    assert_eq!(p.job(&detail, "fine")["status"], "passed");
}

#[test]
fn a_failing_observe_job_does_not_gate() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "unit"
stage = "spark"
run = ["true"]

[[job]]
name = "lint"
stage = "spark"
gate = "observe"
run = ["false"]
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail = p.show(1);
    assert_eq!(detail["status"], "green");
    assert_eq!(p.job(&detail, "lint")["status"], "failed");
    assert_eq!(p.job(&detail, "lint")["gate"], "observe");
}

#[test]
fn needs_order_jobs_and_a_failed_need_skips_its_dependants() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "second"
stage = "spark"
run = ["true"]
needs = ["first"]

[[job]]
name = "first"
stage = "spark"
script = "sleep 0.3"

[[job]]
name = "third"
stage = "spark"
run = ["true"]
needs = ["second"]
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark", "--jobs", "4"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail = p.show(1);
    let time = |job: &str, field: &str| p.job(&detail, job)[field].as_str().unwrap().to_owned();
    // RFC 3339 UTC with fixed millisecond precision sorts as text.
    assert!(
        time("second", "started_at") >= time("first", "finished_at"),
        "{detail:#}"
    );
    assert!(
        time("third", "started_at") >= time("second", "finished_at"),
        "{detail:#}"
    );

    // Now make `first` fail: its dependants are skipped, never started.
    p.write(
        "ironworks.toml",
        &adapter(
            r#"
[[job]]
name = "second"
stage = "spark"
run = ["true"]
needs = ["first"]

[[job]]
name = "first"
stage = "spark"
run = ["false"]

[[job]]
name = "third"
stage = "spark"
run = ["true"]
needs = ["second"]
"#,
        ),
    );
    let out = p.run(&["run", "spark", "--jobs", "4"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let detail = p.show(2);
    for job in ["second", "third"] {
        let record = p.job(&detail, job);
        assert_eq!(record["status"], "skipped", "{detail:#}");
        assert!(record["started_at"].is_null());
    }
    assert_eq!(
        p.job(&detail, "second")["reason"],
        "needs `first`, which did not pass"
    );
    assert_eq!(
        p.job(&detail, "third")["reason"],
        "needs `second`, which did not pass"
    );
}

#[test]
fn a_timeout_kills_the_whole_process_tree_within_the_grace_period() {
    // The job and its grandchild both ignore SIGTERM; only SIGKILL ends them.
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "hang"
stage = "spark"
timeout = "1s"
grace = "1s"
env = { MARKS = "{TMP}" }
script = """
trap '' TERM
sh -c 'trap "" TERM; echo $$ > "$MARKS/grandchild.tmp"; mv "$MARKS/grandchild.tmp" "$MARKS/grandchild"; while :; do sleep 1; done' &
echo $$ > "$MARKS/leader"
while :; do sleep 1; done
"""
"#,
        ),
        &[],
    );
    let started = Instant::now();
    let out = p.run(&["run", "spark"]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    // timeout 1 s + grace 1 s, + 1 s for the kill to land, + start-up.
    assert!(took < Duration::from_millis(3_900), "took {took:?}");
    for marker in ["leader", "grandchild"] {
        let pid = p.pid(marker);
        assert!(is_gone(pid), "{marker} (pid {pid}) survived the timeout");
    }
    let detail = p.show(1);
    let hang = p.job(&detail, "hang");
    assert_eq!(hang["status"], "timed_out");
    assert_eq!(hang["signal"], 9);
    assert!(
        hang["reason"].as_str().unwrap().contains("timeout of 1.0s"),
        "{hang:#}"
    );
}

#[test]
fn a_job_s_leftover_processes_are_terminated_when_it_exits() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "daemonizes"
stage = "spark"
grace = "1s"
env = { MARKS = "{TMP}" }
script = """
sleep 1000 &
echo $! > "$MARKS/daemon"
"""
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let pid = p.pid("daemon");
    assert!(is_gone(pid), "the background process survived its job");
    let detail = p.show(1);
    let reason = p.job(&detail, "daemonizes")["reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("left processes running"), "{reason}");
}

#[test]
fn ctrl_c_cancels_the_run_and_kills_running_jobs() {
    let p = Project::new(&adapter(LONG_JOB_WITH_CHILD), &[]);
    let mut child = p.command(&["run", "spark"]).spawn().unwrap();
    let leader: i32 = p.wait_for_marker("leader", &mut child).parse().unwrap();
    let started = Instant::now();
    signal(child.id(), libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let grandchild = p.pid("child");
    assert!(is_gone(leader), "job leader survived Ctrl-C");
    assert!(is_gone(grandchild), "job child survived Ctrl-C");

    let detail = p.show(1);
    assert_eq!(detail["status"], "cancelled");
    assert_eq!(p.job(&detail, "long")["status"], "cancelled");
    assert_eq!(p.job(&detail, "after")["status"], "cancelled");
}

#[test]
fn junit_reports_are_ingested_and_failures_named() {
    let junit = r#"<?xml version="1.0"?>
<testsuites>
  <testsuite name="chain" tests="3">
    <testcase classname="chain" name="parse"/>
    <testcase classname="chain" name="link"><failure message="prev hash mismatch at height 7"/></testcase>
    <testcase classname="chain" name="later"><skipped/></testcase>
  </testsuite>
</testsuites>
"#;
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "unit"
stage = "spark"
script = "mkdir -p out && cp report.xml out/junit.xml"
results = { junit = "out/junit.xml" }
"#,
        ),
        &[("report.xml", junit)],
    );
    let out = p.run(&["run", "spark"]);
    // The process exited 0, but the report names a failure: the job fails.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let detail = p.show(1);
    let unit = p.job(&detail, "unit");
    assert_eq!(unit["status"], "failed");
    assert_eq!(unit["exit_code"], 0);
    assert_eq!(
        unit["tests"],
        serde_json::json!({"total": 3, "failed": 1, "skipped": 1})
    );
    assert_eq!(unit["test_failures"][0]["name"], "chain::link");
    assert_eq!(
        unit["test_failures"][0]["message"],
        "prev hash mismatch at height 7"
    );
    let shown = String::from_utf8_lossy(&p.run(&["show", "1"]).stdout).into_owned();
    assert!(
        shown.contains("failed: chain::link — prev hash mismatch at height 7"),
        "{shown}"
    );
}

#[test]
fn a_missing_junit_report_is_a_note_not_a_crash() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "unit"
stage = "spark"
run = ["true"]
results = { junit = "nowhere.xml" }
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail = p.show(1);
    let unit = p.job(&detail, "unit");
    assert!(unit["tests"].is_null());
    assert!(
        unit["reason"]
            .as_str()
            .unwrap()
            .contains("did not write it"),
        "{unit:#}"
    );
}

#[test]
fn artifacts_are_kept_with_their_digest() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "package"
stage = "spark"
script = "mkdir -p dist && printf abc > dist/app.txt && printf x > dist/other.log"
artifacts = ["dist/*.txt"]
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail = p.show(1);
    let artifacts = p.job(&detail, "package")["artifacts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(artifacts[0]["path"], "dist/app.txt");
    assert_eq!(artifacts[0]["size"], 3);
    assert_eq!(
        artifacts[0]["sha256"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    let kept = fs::read_to_string(artifacts[0]["stored_at"].as_str().unwrap()).unwrap();
    assert_eq!(kept, "abc");
}

#[test]
fn jobs_run_in_clean_checkouts_of_the_exact_commit() {
    let adapter_text = adapter(
        r#"
[[job]]
name = "look"
stage = "spark"
env = { MARKS = "{TMP}" }
script = """
cp version.txt "$MARKS/seen-$IRONWORKS_RUN_ID"
test ! -e untracked.txt
echo scribble > version.txt
touch made-by-job
"""
"#,
    );
    let p = Project::new(&adapter_text, &[("version.txt", "one\n")]);
    let first = git(&p.repo(), &["rev-parse", "HEAD"]).trim().to_owned();
    p.write("version.txt", "two\n");
    p.commit("two");
    // The user's working tree is dirty; jobs must not see it, nor change it.
    p.write("version.txt", "dirty\n");
    p.write("untracked.txt", "mine\n");

    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fs::read_to_string(p.scratch().join("seen-1")).unwrap(),
        "two\n"
    );
    let out = p.run(&["run", "spark", "--rev", &first[..10]]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        fs::read_to_string(p.scratch().join("seen-2")).unwrap(),
        "one\n"
    );
    assert_eq!(p.runs()[0]["commit"].as_str().unwrap(), first);

    assert_eq!(
        fs::read_to_string(p.repo().join("version.txt")).unwrap(),
        "dirty\n"
    );
    assert!(!p.repo().join("made-by-job").exists());
    // Checkouts are cleaned up after the run.
    let work = p.repo().join(".ironworks/work");
    assert_eq!(fs::read_dir(&work).unwrap().count(), 0);
}

#[test]
fn jobs_see_only_the_declared_environment() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "env"
stage = "spark"
env = { GREETING = "hi" }
pass_env = ["PASSED_THROUGH"]
script = "env | sort > env.txt"
artifacts = ["env.txt"]
"#,
        ),
        &[],
    );
    let out = p
        .command(&["run", "spark"])
        .env("IRONWORKS_SECRET_TOKEN", "hunter2")
        .env("AWS_SECRET_ACCESS_KEY", "hunter3")
        .env("PASSED_THROUGH", "yes")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail = p.show(1);
    let stored = p.job(&detail, "env")["artifacts"][0]["stored_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let env = fs::read_to_string(stored).unwrap();
    assert!(env.contains("GREETING=hi\n"), "{env}");
    assert!(env.contains("PASSED_THROUGH=yes\n"), "{env}");
    assert!(env.contains("IRONWORKS_JOB=env\n"), "{env}");
    assert!(env.contains("CI=true\n"), "{env}");
    assert!(!env.contains("hunter"), "{env}");
}

#[test]
fn a_killed_ironworks_leaves_an_interrupted_run_and_no_processes() {
    let p = Project::new(&adapter(LONG_JOB_WITH_CHILD), &[]);
    let mut child = p.command(&["run", "spark"]).spawn().unwrap();
    let leader: i32 = p.wait_for_marker("leader", &mut child).parse().unwrap();
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();

    // The next command notices and cleans up.
    let out = p.run(&["runs"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        stderr(&out).contains("marked interrupted"),
        "{}",
        text(&out)
    );
    let detail = p.show(1);
    assert_eq!(detail["status"], "interrupted");
    assert_eq!(p.job(&detail, "long")["status"], "interrupted");
    assert_eq!(p.job(&detail, "after")["status"], "interrupted");
    let grandchild = p.pid("child");
    let deadline = Instant::now() + Duration::from_secs(2);
    while !(is_gone(leader) && is_gone(grandchild)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(is_gone(leader), "job leader survived its ironworks");
    assert!(is_gone(grandchild), "job child survived its ironworks");
    // Recovery happens once.
    let out = p.run(&["runs"]);
    assert!(
        !stderr(&out).contains("marked interrupted"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_concurrent_run_is_not_mistaken_for_an_orphan() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "wait"
stage = "spark"
env = { MARKS = "{TMP}" }
script = """
echo go > "$MARKS/started"
while [ ! -e "$MARKS/release" ]; do sleep 0.05; done
"""
"#,
        ),
        &[],
    );
    let mut child = p.command(&["run", "spark"]).spawn().unwrap();
    p.wait_for_marker("started", &mut child);
    let runs = p.runs();
    assert_eq!(runs[0]["status"], "running");
    fs::write(p.scratch().join("release"), "").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(p.runs()[0]["status"], "green");
}

#[test]
fn a_reused_checkout_is_indistinguishable_from_a_fresh_one() {
    // One slot (--jobs 1): `clean` runs in the checkout `vandal` used. It must
    // find the exact commit, nothing more, nothing less, and an empty TMPDIR.
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "vandal"
stage = "spark"
script = """
mkdir -p build/deep && echo obj > build/deep/x.o
echo changed > src/lib.txt
rm README
chmod 700 src
ln -sf /etc/passwd src/link
echo junk > "$TMPDIR/junk"
git status --porcelain > /dev/null
"""

[[job]]
name = "clean"
stage = "spark"
needs = ["vandal"]
script = """
test -z "$(git status --porcelain --ignored)"
test "$(cat src/lib.txt)" = original
test "$(readlink src/link)" = lib.txt
test -f README
test -z "$(ls -A "$TMPDIR")"
test ! -e build
"""
"#,
        ),
        &[("src/lib.txt", "original\n"), ("README", "readme\n")],
    );
    std::os::unix::fs::symlink("lib.txt", p.repo().join("src/link")).unwrap();
    p.commit("link");
    let out = p.run(&["run", "spark", "--jobs", "1"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail = p.show(1);
    assert_eq!(p.job(&detail, "clean")["status"], "passed", "{detail:#}");
}

#[test]
fn run_local_reproduces_one_job_of_any_stage_and_prints_its_command() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "unit"
stage = "spark"
run = ["true"]

[[job]]
name = "fuzz-smoke"
stage = "harden"
optional = true
env = { FUZZ = "chain parse" }
script = "echo \"fuzzing $FUZZ in $(basename $(pwd))\"; test -f src.txt; exit 4"
timeout = "90s"
"#,
        ),
        &[("src.txt", "x")],
    );
    let out = p.run(&["run-local", "fuzz-smoke"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        stdout.contains("job `fuzz-smoke` (harden, required)"),
        "{stdout}"
    );
    assert!(stdout.contains("timeout 1m30s"), "{stdout}");
    assert!(stdout.contains("FUZZ='chain parse'"), "{stdout}");
    assert!(stdout.contains("/bin/sh -ec 'echo"), "{stdout}");
    assert!(
        stdout.contains("fuzzing chain parse in"),
        "the log is shown: {stdout}"
    );
    assert!(
        stdout.contains("fuzz-smoke: failed — exited with code 4"),
        "{stdout}"
    );
    let runs = p.runs();
    assert_eq!(runs[0]["purpose"], "local");
    assert_eq!(runs[0]["stage"], "harden");

    let out = p.run(&["run-local", "fuz-smoke"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `fuzz-smoke`"),
        "{}",
        text(&out)
    );
}

/// `date -u -d 'OFFSET' +%F`.
fn date(offset: &str) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", offset, "+%F"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn toolstate_project(release: &str) -> Project {
    Project::new(
        &format!(
            r#"[project]
id = "t"

[toolstate]
stable = ["clippy"]
release-dates = ["{release}"]
window = "7d"

[[job]]
name = "build"
stage = "forge"
run = ["true"]

[[job]]
name = "clippy"
stage = "forge"
toolstate = "clippy"
script = """
state=$(cat state.txt)
echo "$state" > "$IRONWORKS_TOOLSTATE"
test "$state" = test-pass
"""

[[job]]
name = "miri"
stage = "forge"
toolstate = "miri"
run = ["false"]
"#
        ),
        &[("state.txt", "test-pass\n")],
    )
}

#[test]
fn a_stable_component_regressing_inside_the_release_window_fails_the_gate() {
    let p = toolstate_project(&date("+3 days"));
    let out = p.run(&["run", "forge"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "components allowed to fail do not gate: {}",
        text(&out)
    );
    p.write("state.txt", "test-fail\n");
    p.commit("break clippy tests");
    let out = p.run(&["run", "forge"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        stderr(&out).contains("clippy regressed test-pass -> test-fail"),
        "{}",
        text(&out)
    );
    assert!(stderr(&out).contains("the gate fails"), "{}", text(&out));

    let report = p.json(&["toolstate", "--json"]);
    let history = report["history"].as_array().unwrap();
    let clippy: Vec<&str> = history
        .iter()
        .filter(|r| r["component"] == "clippy")
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(clippy, ["test-fail", "test-pass"], "{report:#}");
    // miri fails without tests or a report: build-fail, and it is not stable.
    let miri = history.iter().find(|r| r["component"] == "miri").unwrap();
    assert_eq!(miri["state"], "build-fail");
    assert!(report["release_window"].is_string());
}

#[test]
fn outside_the_release_window_a_regression_only_warns() {
    let p = toolstate_project(&date("+60 days"));
    assert_eq!(p.run(&["run", "forge"]).status.code(), Some(0));
    p.write("state.txt", "test-fail\n");
    p.commit("break clippy tests");
    let out = p.run(&["run", "forge"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        stderr(&out).contains("outside the release window, a warning"),
        "{}",
        text(&out)
    );
    let listing = String::from_utf8(p.run(&["toolstate"]).stdout).unwrap();
    assert!(listing.contains("outside any release window"), "{listing}");
    assert!(
        listing.contains("clippy               test-fail   stable"),
        "{listing}"
    );
}

//! Harden on real repositories: the scheduler only ever picks the newest
//! forge-green snapshot, runs a job once per snapshot unless forced, checks
//! replay expectations, and records required failures.

mod common;

use common::*;
use serde_json::Value;

/// Forge passes unless both `x` and `y` exist (two PRs that interact);
/// the replay job prints the height in `height.txt` as JSON.
fn harden_project() -> Project {
    Project::new(
        r#"[project]
id = "h"

[stages]
enable = ["harden"]

[queue]
target = "main"

[[job]]
name = "unit"
stage = "spark"
run = ["true"]

[[job]]
name = "check"
stage = "forge"
script = "! { test -e x && test -e y; }"

[[job]]
name = "replay"
stage = "harden"
kind = "replay"
schedule = "* * * * *"
script = """
echo "replaying to $(cat height.txt)..."
printf '{"height":%s,"best_hash":"abc"}\n' "$(cat height.txt)"
"""
expect = { "/height" = 100, "/best_hash" = "abc" }

[[job]]
name = "nightly-notes"
stage = "harden"
gate = "observe"
schedule = "0 3 * * *"
run = ["true"]
"#,
        &[("height.txt", "100\n")],
    )
}

fn harden(p: &Project, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["harden"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = p.run(&all);
    let value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code(), value)
}

fn decision<'a>(decisions: &'a Value, job: &str) -> &'a Value {
    decisions
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["job"] == job)
        .unwrap()
}

#[test]
fn nothing_runs_before_a_forge_green_snapshot_exists() {
    let p = harden_project();
    let (code, decisions) = harden(&p, &["tick"]);
    assert_eq!(code, Some(0));
    let replay = decision(&decisions, "replay");
    assert_eq!(replay["decision"], "skip");
    assert!(
        replay["reason"]
            .as_str()
            .unwrap()
            .contains("never runs on a mutable ref"),
        "{replay:#}"
    );
    assert!(p.runs().is_empty(), "no run was started");
}

#[test]
fn the_scheduler_picks_the_newest_green_snapshot_and_skips_a_red_one() {
    let p = harden_project();
    branch(&p, "x", &[("x", "1")]);
    branch(&p, "y", &[("y", "1")]);
    ready_pr(&p, "x", &[]);
    ready_pr(&p, "y", &[]);
    // Both promoted; the head (x + y) is red, the commit after x is probed
    // green by bisection: the newest *green* snapshot is not the head.
    let out = p.run(&["queue", "run"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let snapshots = p.json(&["snapshots", "--json"]);
    let head = &snapshots[0];
    assert_eq!(head["status"], "red");
    let green = snapshots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "green")
        .unwrap()
        .clone();

    let (code, decisions) = harden(&p, &["tick"]);
    assert_eq!(code, Some(0), "{decisions:#}");
    let replay = decision(&decisions, "replay");
    assert_eq!(replay["decision"], "run", "{replay:#}");
    assert_eq!(replay["report"]["snapshot"], green["id"]);
    assert_eq!(replay["report"]["commit"], green["commit"]);
    assert_eq!(replay["report"]["verdict"], "green");
    assert!(
        replay["report"]["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["passed"] == true)
    );

    // Once per snapshot: the next tick skips it; `harden run` forces it.
    let (_, decisions) = harden(&p, &["tick"]);
    let again = decision(&decisions, "replay");
    assert_eq!(again["decision"], "skip");
    assert!(
        again["reason"]
            .as_str()
            .unwrap()
            .contains("already ran on snapshot"),
        "{again:#}"
    );
    let (_, decisions) = harden(&p, &["run", "--job", "replay"]);
    assert_eq!(decision(&decisions, "replay")["decision"], "run");
    assert_eq!(
        decisions.as_array().unwrap().len(),
        1,
        "--job runs only that job"
    );

    // A red snapshot is refused when named explicitly.
    let out = p.run(&["harden", "run", "--snapshot", &head["id"].to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("harden only runs on forge-green snapshots"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_failing_replay_assertion_makes_the_project_unhealthy_with_a_record() {
    let p = harden_project();
    branch(&p, "good", &[("g", "1")]);
    ready_pr(&p, "good", &[]);
    assert_eq!(p.run(&["queue", "run"]).status.code(), Some(0));
    let (code, decisions) = harden(&p, &["run"]);
    assert_eq!(code, Some(0), "{decisions:#}");
    let first = decision(&decisions, "replay")["report"].clone();
    assert_eq!(first["verdict"], "green");

    // A change lands that makes the replay stop short of the expected height.
    branch(&p, "short", &[("height.txt", "99\n")]);
    ready_pr(&p, "short", &[]);
    assert_eq!(p.run(&["queue", "run"]).status.code(), Some(0));
    let (code, decisions) = harden(&p, &["run", "--job", "replay"]);
    assert_eq!(code, Some(1), "a required harden failure: {decisions:#}");
    let report = &decision(&decisions, "replay")["report"];
    assert_eq!(report["verdict"], "red");
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("/height expected 100 got 99"),
        "{report:#}"
    );

    // report.json and report.md are written next to the run's logs.
    let run = report["run"].as_i64().unwrap();
    let dir = p.repo().join(format!(".ironworks/runs/{run}"));
    let written: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(written["verdict"], "red");
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.contains("| `/height` | `100` | `99` | FAIL |"), "{md}");

    let status = p.json(&["harden", "status", "--json"]);
    assert_eq!(status["health"], "unhealthy", "{status:#}");
    let record = p
        .json(&["triage", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "harden-failure")
        .cloned()
        .expect("a harden-failure record");
    let summary = record["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "last green for this job: snapshot {}",
            first["snapshot"]
        )),
        "{summary}"
    );
    assert!(summary.contains("log: "), "{summary}");
}

#[test]
fn harden_jobs_are_validated() {
    let p = Project::new(
        r#"[project]
id = "h"
[[job]]
name = "r"
stage = "forge"
kind = "replay"
schedule = "every night"
run = ["true"]
"#,
        &[],
    );
    let out = p.run(&["adapter", "check"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("kind `replay` is for harden jobs"), "{err}");
    assert!(err.contains("`schedule` is for harden jobs"), "{err}");
    assert!(
        err.contains("replay job `r` has no `expect` table"),
        "{err}"
    );
}

/// `ironworks demo` into a fresh directory; returns (tempdir, demo dir).
fn demo() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = std::process::Command::new(BIN)
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (tmp, dir)
}

fn in_dir(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn a_tampered_fixture_fails_closed_and_a_clean_copy_is_fetched_again() {
    let (_tmp, dir) = demo();
    let digest = "d8105073f543e3e6806cf129b52166edae988ad0fea4f4021bf939e835e95f09";
    let cached = dir.join(".ironworks/fixtures/sha256").join(digest);
    let mut bytes = std::fs::read(&cached).expect("the demo cached the fixture");
    bytes[600] ^= 0xff;
    std::fs::write(&cached, &bytes).unwrap();
    let runs_before = serde_json::from_slice::<Value>(
        &in_dir(&dir, &["runs", "--json", "--limit", "1000"]).stdout,
    )
    .unwrap()
    .as_array()
    .unwrap()
    .len();

    let out = in_dir(&dir, &["harden", "run", "--job", "replay-100", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let decisions: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &decisions[0]["report"];
    assert!(report["run"].is_null(), "nothing ran: {report:#}");
    let reason = report["reason"].as_str().unwrap();
    assert!(reason.starts_with("nothing was run"), "{reason}");
    assert!(
        reason.contains("chain-100") && reason.contains(digest),
        "names the fixture and digests: {reason}"
    );
    let runs_after = serde_json::from_slice::<Value>(
        &in_dir(&dir, &["runs", "--json", "--limit", "1000"]).stdout,
    )
    .unwrap()
    .as_array()
    .unwrap()
    .len();
    assert_eq!(
        runs_after, runs_before,
        "no run was started on an unverified fixture"
    );
    let status: Value =
        serde_json::from_slice(&in_dir(&dir, &["harden", "status", "--json"]).stdout).unwrap();
    // The last *recorded* run of replay-100 is still the demo's green one; the
    // failure is in the record.
    let triage: Value =
        serde_json::from_slice(&in_dir(&dir, &["triage", "--json"]).stdout).unwrap();
    assert!(
        triage
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "harden-failure"
                && t["summary"].as_str().unwrap().contains("nothing was run")),
        "{triage:#} {status:#}"
    );

    // The bad entry was removed; the next run fetches a verified copy.
    let out = in_dir(&dir, &["harden", "run", "--job", "replay-100", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let decisions: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(decisions[0]["report"]["verdict"], "green");
    assert_eq!(decisions[0]["report"]["fixture"]["sha256"], digest);
    assert!(
        decisions[0]["report"]["peak_rss_kb"]
            .as_u64()
            .is_some_and(|kb| kb > 0),
        "the replay report records peak memory: {decisions:#}"
    );
}

#[test]
fn compat_runs_against_each_previous_release_and_names_the_incompatible_one() {
    let (_tmp, dir) = demo();
    // A fake "0.0.7" whose chain hash differs: its replay of a new chain
    // disagrees with the current node.
    let src = std::fs::read_to_string(dir.join("src/chain.c")).unwrap();
    let broken = src.replacen("0x100000001b3", "0x100000001b5", 1);
    assert_ne!(src, broken, "the FNV prime is where the test expects it");
    let release = dir.join("fixtures/releases/old");
    std::fs::create_dir_all(release.join("src")).unwrap();
    std::fs::write(release.join("src/chain.c"), broken).unwrap();
    for file in ["src/chain.h", "src/main.c"] {
        std::fs::copy(dir.join(file), release.join(file)).unwrap();
    }
    std::fs::write(
        release.join("Makefile"),
        "build/toynode: src/main.c src/chain.c\n\tmkdir -p build\n\tcc -O2 -std=c99 src/main.c src/chain.c -o $@\nall: build/toynode\n",
    )
    .unwrap();
    let tar = dir.join("fixtures/releases/toynode-0.0.7-src.tar");
    let status = std::process::Command::new("tar")
        .args(["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "-cf"])
        .arg(&tar)
        .args(["-C", release.to_str().unwrap(), "Makefile", "src"])
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&tar).unwrap();
    let sha = {
        let out = std::process::Command::new("sha256sum")
            .arg(&tar)
            .output()
            .unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned()
    };
    let adapter = std::fs::read_to_string(dir.join("ironworks.toml")).unwrap();
    let adapter = adapter.replace(
        r#"releases = ["toynode-0.0.8", "toynode-0.0.9"]"#,
        r#"releases = ["toynode-0.0.7", "toynode-0.0.8", "toynode-0.0.9"]"#,
    ) + &format!(
        "\n[[fixture]]\nid = \"toynode-0.0.7\"\nkind = \"previous-release\"\nurl = \"file:fixtures/releases/toynode-0.0.7-src.tar\"\nsha256 = \"{sha}\"\nsize = {}\nformat = \"tar\"\n",
        bytes.len()
    );
    std::fs::write(dir.join("ironworks.toml"), adapter).unwrap();

    let out = in_dir(
        &dir,
        &["harden", "run", "--job", "previous-releases", "--json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let decisions: Value = serde_json::from_slice(&out.stdout).unwrap();
    let report = &decisions[0]["report"];
    let verdicts: Vec<(&str, &str)> = report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["release"].as_str().unwrap(),
                r["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("toynode-0.0.7", "red"),
            ("toynode-0.0.8", "green"),
            ("toynode-0.0.9", "green")
        ],
        "{report:#}"
    );
    assert!(
        report["reason"]
            .as_str()
            .unwrap()
            .contains("incompatible with: toynode-0.0.7"),
        "{report:#}"
    );
}

#[test]
fn fuzz_crashes_become_findings_deduplicated_across_runs_and_the_corpus_persists() {
    let (_tmp, dir) = demo();
    // The demo fuzzed parse_block and replay_chain into a persistent corpus.
    let corpus = dir.join(".ironworks/fuzz/corpus/fuzz/parse_block");
    let kept = std::fs::read_dir(&corpus).unwrap().count();
    assert!(kept > 3, "the corpus grew beyond the seeds: {kept}");
    // A second job fuzzes the harness's `canary` target, which crashes on
    // inputs starting with FUZZ (it exists to prove crash handling).
    let adapter = std::fs::read_to_string(dir.join("ironworks.toml")).unwrap()
        + r#"
[[job]]
name = "fuzz-canary"
stage = "harden"
kind = "fuzz"
run = ["make", "fuzz"]
fuzz = { binary = "build-fuzz/fuzz", targets = ["canary"], budget = "5s", input-timeout = "5s" }
"#;
    std::fs::write(dir.join("ironworks.toml"), adapter).unwrap();

    let mut signatures = Vec::new();
    for round in 0..2 {
        let out = in_dir(&dir, &["harden", "run", "--job", "fuzz-canary", "--json"]);
        assert_eq!(out.status.code(), Some(1), "a crash is red: {}", text(&out));
        let decisions: Value = serde_json::from_slice(&out.stdout).unwrap();
        let target = &decisions[0]["report"]["fuzz"][0];
        assert_eq!(target["target"], "canary");
        let crash = &target["crashes"][0];
        assert_eq!(crash["crash_type"], "heap-buffer-overflow", "{target:#}");
        assert_eq!(crash["reproduced"], true);
        assert_eq!(crash["new"], round == 0, "round {round}: {crash:#}");
        assert!(std::path::Path::new(crash["reproducer"].as_str().unwrap()).exists());
        signatures.push(crash["signature"].as_str().unwrap().to_owned());
    }
    assert_eq!(signatures[0], signatures[1], "the same crash, deduplicated");

    // The regular fuzz job resumes from its corpus.
    let out = in_dir(&dir, &["harden", "run", "--job", "fuzz", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let decisions: Value = serde_json::from_slice(&out.stdout).unwrap();
    let parse_block = &decisions[0]["report"]["fuzz"][0];
    assert_eq!(parse_block["target"], "parse_block");
    assert_eq!(
        parse_block["corpus_before"].as_u64().unwrap() as usize,
        kept
    );
}

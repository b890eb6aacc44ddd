//! Gated mode on real git repositories: staging only ever moves to a tree
//! that passed forge; rollups with a bad PR; speculative re-tests; flakes.

mod common;

use common::*;
use serde_json::Value;

fn gated_adapter(policy: &str, builders: usize, check: &str) -> String {
    format!(
        r#"[project]
id = "g"

[queue]
mode = "gated"
policy = "{policy}"
builders = {builders}
max-batch = 4
target = "main"

[[job]]
name = "unit"
stage = "spark"
run = ["true"]

[[job]]
name = "check"
stage = "forge"
env = {{ MARKS = "{{TMP}}" }}
script = """
{check}
"""
"#
    )
}

fn queue_run(p: &Project) -> Value {
    let out = p.run(&["queue", "run", "--json"]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
}

/// Every value staging ever had (its reflog), oldest first.
fn staging_history(p: &Project) -> Vec<String> {
    let mut values: Vec<String> = git(
        &p.repo(),
        &["reflog", "show", "--format=%H", "refs/heads/staging"],
    )
    .lines()
    .map(str::to_owned)
    .collect();
    values.reverse();
    values
}

/// Staging only ever pointed at commits whose exact tree passed forge
/// (besides the target commit it was created from).
fn assert_only_tested_trees_landed(p: &Project) {
    let snapshots = p.json(&["snapshots", "--json"]);
    let runs = p.json(&["runs", "--json", "--limit", "1000"]);
    let history = staging_history(p);
    for commit in &history[1..] {
        let snapshot = snapshots
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["commit"] == commit.as_str())
            .unwrap_or_else(|| panic!("staging moved to {commit}, which has no snapshot"));
        assert_eq!(snapshot["status"], "green", "{snapshot:#}");
        let run = snapshot["forge_run"].as_i64().unwrap();
        let run = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == run)
            .unwrap();
        assert_eq!(
            run["commit"],
            commit.as_str(),
            "the forge run tested that exact commit"
        );
        assert_eq!(run["status"], "green");
        assert_eq!(run["purpose"], "gated-build");
    }
}

#[test]
fn gated_mode_lands_only_tested_trees() {
    let p = Project::new(&gated_adapter("serial", 1, "true"), &[]);
    branch(&p, "a", &[("a", "1")]);
    branch(&p, "b", &[("b", "1")]);
    let a = ready_pr(&p, "a", &["--rollup", "always"]);
    let b = ready_pr(&p, "b", &["--rollup", "always"]);
    let report = queue_run(&p);
    assert_eq!(report["merged"], serde_json::json!([a, b]), "{report:#}");
    assert_only_tested_trees_landed(&p);
    let staging = git(&p.repo(), &["rev-parse", "staging"]);
    let message = git(&p.repo(), &["log", "-1", "--format=%B", staging.trim()]);
    assert!(
        message.contains(&format!("PR: {b}")),
        "promotion trailers in gated mode too: {message}"
    );
    // No candidate refs are left behind.
    assert_eq!(
        git(&p.repo(), &["for-each-ref", "refs/ironworks/candidates"]),
        ""
    );
}

#[test]
fn a_rollup_of_four_with_one_bad_pr_lands_three_and_ejects_the_bad_one() {
    let p = Project::new(&gated_adapter("batch-bisect", 1, "test ! -e bad"), &[]);
    branch(&p, "one", &[("one", "1")]);
    branch(&p, "two", &[("two", "2")]);
    branch(&p, "bad", &[("bad", "x")]);
    branch(&p, "four", &[("four", "4")]);
    let ids: Vec<i64> = ["one", "two", "bad", "four"]
        .iter()
        .map(|b| ready_pr(&p, b, &["--rollup", "always"]))
        .collect();
    let report = queue_run(&p);
    let mut merged: Vec<i64> = report["merged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    merged.sort();
    assert_eq!(merged, [ids[0], ids[1], ids[3]], "{report:#}");
    assert_eq!(report["ejected"], serde_json::json!([ids[2]]));
    assert_only_tested_trees_landed(&p);
    let tree = git(&p.repo(), &["ls-tree", "--name-only", "staging"]);
    assert!(!tree.contains("bad") && tree.contains("four"), "{tree}");
    // Every landed PR is listed under the snapshot it landed with.
    let snapshots = p.json(&["snapshots", "--json"]);
    let mut listed: Vec<i64> = snapshots
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| {
            s["promotions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["pr"].as_i64().unwrap())
        })
        .collect();
    listed.sort();
    assert_eq!(listed, [ids[0], ids[1], ids[3]], "{snapshots:#}");

    // The first candidate was the whole rollup.
    let runs = p.json(&["runs", "--json", "--limit", "1000"]);
    let first_build = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "gated-build")
        .min_by_key(|r| r["id"].as_i64())
        .unwrap()
        .clone();
    let log = git(
        &p.repo(),
        &[
            "log",
            "--format=%s",
            first_build["commit"].as_str().unwrap(),
        ],
    );
    assert_eq!(log.matches("Promote PR").count(), 4, "{log}");
    assert_eq!(first_build["status"], "red");

    let triage = p.json(&["triage", "--json"]);
    let ejection = triage
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "ejection")
        .unwrap();
    assert_eq!(ejection["prs"], serde_json::json!([ids[2]]));
    assert_eq!(
        ejection["runs"].as_array().unwrap().len(),
        1,
        "evidence: {ejection:#}"
    );
}

#[test]
fn a_failure_in_front_makes_the_speculative_build_behind_it_retest_on_staging() {
    let p = Project::new(&gated_adapter("speculative", 2, "test ! -e bad"), &[]);
    branch(&p, "bad", &[("bad", "x")]);
    branch(&p, "good", &[("good", "1")]);
    let bad = ready_pr(&p, "bad", &["--rollup", "always"]);
    let good = ready_pr(&p, "good", &["--rollup", "always"]);
    let report = queue_run(&p);
    assert_eq!(report["merged"], serde_json::json!([good]), "{report:#}");
    assert_eq!(report["ejected"], serde_json::json!([bad]));
    assert_only_tested_trees_landed(&p);

    // `good` was first built on top of `bad` (speculatively), then again on staging.
    let runs = p.json(&["runs", "--json", "--limit", "1000"]);
    let builds: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["purpose"] == "gated-build")
        .collect();
    let with = |commit: &str, name: &str| {
        git(&p.repo(), &["log", "--format=%s", commit]).contains(&format!(
            "Promote PR #{}",
            if name == "bad" { bad } else { good }
        ))
    };
    let stacked = builds
        .iter()
        .filter(|r| {
            let c = r["commit"].as_str().unwrap();
            with(c, "bad") && with(c, "good")
        })
        .count();
    let alone = builds
        .iter()
        .filter(|r| {
            let c = r["commit"].as_str().unwrap();
            !with(c, "bad") && with(c, "good")
        })
        .count();
    assert!(stacked >= 1, "good was built on top of bad: {runs:#}");
    assert_eq!(alone, 1, "good was re-tested on staging once: {runs:#}");
}

#[test]
fn a_flaky_failure_is_rerun_and_recorded_as_a_flake() {
    let check = r#"if [ ! -e "$MARKS/flaked" ]; then touch "$MARKS/flaked"; exit 1; fi"#;
    let p = Project::new(&gated_adapter("ironworks", 1, check), &[]);
    branch(&p, "feature", &[("f", "1")]);
    let id = ready_pr(&p, "feature", &["--rollup", "always"]);
    let report = queue_run(&p);
    assert_eq!(report["merged"], serde_json::json!([id]), "{report:#}");
    assert_eq!(report["ejected"], serde_json::json!([]));
    assert_only_tested_trees_landed(&p);
    let triage = p.json(&["triage", "--json"]);
    let flake = triage
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "flake")
        .expect("a flake record");
    assert_eq!(flake["job"], "check");
}

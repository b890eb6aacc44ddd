//! Listings, adapter discovery, and the demo.

mod common;

use std::fs;

use common::*;
use serde_json::json;

#[test]
fn stages_json_lists_every_stage_in_order_with_flags() {
    let p = Project::new(
        r#"
[project]
id = "t"

[stages]
enable = ["harden"]
disable = ["temper"]

[[job]]
name = "unit"
stage = "spark"
run = ["true"]

[[job]]
name = "pkg"
stage = "temper"
run = ["true"]

[[job]]
name = "extra"
stage = "forge"
run = ["true"]
optional = true
"#,
        &[],
    );
    let stages = p.json(&["stages", "--json"]);
    assert_eq!(
        stages,
        json!([
            {"stage": "spark", "enabled": true, "implemented": true, "active": true, "jobs": 1},
            {"stage": "forge", "enabled": true, "implemented": true, "active": true, "jobs": 1},
            {"stage": "harden", "enabled": true, "implemented": false, "active": false, "jobs": 0},
            {"stage": "temper", "enabled": false, "implemented": true, "active": false, "jobs": 1},
            {"stage": "stamp", "enabled": false, "implemented": false, "active": false, "jobs": 0},
        ])
    );
    let table = String::from_utf8(p.run(&["stages"]).stdout).unwrap();
    assert!(
        table.contains("temper   no       yes          no"),
        "{table}"
    );
}

#[test]
fn the_adapter_is_found_in_the_nearest_parent_and_state_sits_next_to_it() {
    let p = Project::new(
        &adapter("[[job]]\nname = \"unit\"\nstage = \"spark\"\nrun = [\"true\"]\n"),
        &[("deep/er/file.txt", "x")],
    );
    let out = p
        .command(&["run", "spark"])
        .current_dir(p.repo().join("deep/er"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(p.repo().join(".ironworks/state.db").exists());
    assert!(!p.repo().join("deep/er/.ironworks").exists());
    // The state never shows in git status.
    assert_eq!(
        git(&p.repo(), &["status", "--porcelain", "--ignored=no"]),
        ""
    );
}

#[test]
fn explicit_adapter_and_state_dir_work_from_anywhere() {
    let p = Project::new(
        &adapter("[[job]]\nname = \"unit\"\nstage = \"spark\"\nrun = [\"true\"]\n"),
        &[],
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let state = elsewhere.path().join("state");
    let adapter_path = p.repo().join("ironworks.toml");
    let out = std::process::Command::new(BIN)
        .args(["run", "spark", "--adapter"])
        .arg(&adapter_path)
        .arg("--state-dir")
        .arg(&state)
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = std::process::Command::new(BIN)
        .args(["runs", "--json"])
        .env("IRONWORKS_STATE_DIR", &state)
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs.as_array().unwrap().len(), 1, "{}", text(&out));
}

#[test]
fn runs_are_listed_newest_first_and_run_json_matches_show() {
    let p = Project::new(
        &adapter("[[job]]\nname = \"unit\"\nstage = \"spark\"\nrun = [\"true\"]\n"),
        &[],
    );
    let first = p.json(&["run", "spark", "--json"]);
    p.json(&["run", "spark", "--json"]);
    let runs = p.runs();
    let ids: Vec<i64> = runs.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [2, 1]);
    assert_eq!(first, p.show(1));
    assert_eq!(first["jobs"][0]["argv"], json!(["true"]));
    let limited = p.json(&["runs", "--json", "--limit", "1"]);
    assert_eq!(limited.as_array().unwrap().len(), 1);
}

#[test]
fn show_prints_a_job_log() {
    let p = Project::new(
        &adapter(
            "[[job]]\nname = \"hello\"\nstage = \"spark\"\nscript = \"echo out; echo err >&2\"\n",
        ),
        &[],
    );
    assert_eq!(p.run(&["run", "spark"]).status.code(), Some(0));
    let out = p.run(&["show", "1", "--log", "hello"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("--- log of hello"), "{stdout}");
    assert!(stdout.ends_with("out\nerr\n"), "{stdout}");
}

#[test]
fn the_demo_creates_a_repository_runs_spark_and_later_commands_need_no_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let out = std::process::Command::new(BIN)
        .args(["demo", "--dir"])
        .arg(&dir)
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("state:     {}", dir.join(".ironworks").display())),
        "{stdout}"
    );
    assert!(stdout.contains("logs:"), "{stdout}");
    assert!(stdout.contains("artifacts:"), "{stdout}");
    assert!(stdout.contains("tests: 7 run, 0 failed"), "{stdout}");

    assert_eq!(
        git(&dir, &["status", "--porcelain"]),
        "",
        "the demo repository is clean"
    );
    let runs = std::process::Command::new(BIN)
        .args(["runs", "--json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let runs: serde_json::Value = serde_json::from_slice(&runs.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    let first = runs.iter().find(|r| r["id"] == 1).unwrap();
    assert_eq!(first["stage"], "spark");
    assert_eq!(first["purpose"], "stage");
    assert_eq!(first["status"], "green");
    assert_eq!(first["jobs_total"], 4);
    // One PR walked through the queue: spark on its head, forge on staging.
    let purposes: Vec<&str> = runs
        .iter()
        .rev()
        .map(|r| r["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        purposes,
        [
            "stage",
            "spark-pr",
            "forge-snapshot",
            "harden",
            "harden",
            "harden",
            "harden"
        ],
        "{runs:#?}"
    );
    assert!(runs.iter().all(|r| r["status"] == "green"), "{runs:#?}");
    let json = |args: &[&str]| -> serde_json::Value {
        let out = std::process::Command::new(BIN)
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let prs = json(&["pr", "list", "--json"]);
    assert_eq!(prs[0]["state"], "merged", "{prs:#}");
    let snapshots = json(&["snapshots", "--json"]);
    assert_eq!(snapshots[0]["status"], "green", "{snapshots:#}");
    assert_eq!(snapshots[0]["promotions"][0]["pr"], 1);
    assert_eq!(
        git(&dir, &["rev-parse", "staging"]).trim(),
        snapshots[0]["commit"].as_str().unwrap()
    );
    assert!(stdout.contains("queue merged [1] into staging"), "{stdout}");
    assert!(
        stdout.contains("harden `replay-100` on snapshot 1: green (3/3 expectations met"),
        "{stdout}"
    );
    assert!(
        stdout.contains("harden `previous-releases` on snapshot 1: green (compatible with toynode-0.0.8, toynode-0.0.9"),
        "{stdout}"
    );
    let status = json(&["harden", "status", "--json"]);
    assert_eq!(status["health"], "healthy", "{status:#}");

    // The example walks the other stages too, and temper keeps its package.
    let out = std::process::Command::new(BIN)
        .args(["run", "temper", "--json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let artifact = &detail["jobs"][0]["artifacts"][0];
    assert_eq!(artifact["path"], "dist/toynode-0.1.0.tar.gz");
    assert!(
        fs::metadata(artifact["stored_at"].as_str().unwrap())
            .unwrap()
            .len()
            > 1000
    );

    // A second demo into the same directory is refused and changes nothing.
    let out = std::process::Command::new(BIN)
        .args(["demo", "--dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("exists and is not empty"),
        "{}",
        text(&out)
    );
}

#[test]
fn every_bundled_example_adapter_is_valid() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/toynode/ironworks.toml"
    );
    let out = std::process::Command::new(BIN)
        .args(["adapter", "check", "--adapter", example])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("active stages: spark (4), forge (3), harden (3), temper (2), stamp (1)")
    );
}

#[test]
fn sim_queue_compares_the_policies_and_checks_the_invariants() {
    let out = std::process::Command::new(BIN)
        .args([
            "sim",
            "queue",
            "--days",
            "3",
            "--prs-per-day",
            "40",
            "--builders",
            "8",
            "--seed",
            "7",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let policies = report["policies"].as_array().unwrap();
    let names: Vec<&str> = policies
        .iter()
        .map(|p| p["policy"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["serial", "batch-bisect", "speculative", "ironworks"]
    );
    for policy in policies {
        for key in [
            "merged_per_day",
            "p50_hours",
            "p95_hours",
            "builds_per_merge",
            "utilisation",
            "violations",
        ] {
            assert!(policy.get(key).is_some(), "{key} missing in {policy:#}");
        }
        assert_eq!(policy["violations"], 0, "{policy:#}");
    }
    let merged = |name: &str| {
        policies.iter().find(|p| p["policy"] == name).unwrap()["merged_per_day"]
            .as_f64()
            .unwrap()
    };
    assert!(merged("ironworks") > merged("serial"), "{report:#}");

    // Same seed, same numbers: the simulation is deterministic.
    let again = std::process::Command::new(BIN)
        .args([
            "sim",
            "queue",
            "--days",
            "3",
            "--prs-per-day",
            "40",
            "--builders",
            "8",
            "--seed",
            "7",
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(again.stdout, out.stdout);

    let bad = std::process::Command::new(BIN)
        .args(["sim", "queue", "--fail-rate", "1.5"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    let bad = std::process::Command::new(BIN)
        .args(["sim", "queue", "--policy", "bors"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
}

#[test]
fn export_github_matrix_uses_the_try_selection_rules() {
    let p = Project::new(
        r#"[project]
id = "t"

[[job]]
name = "unit"
stage = "spark"
run = ["true"]
timeout = "10m"

[[job]]
name = "lint"
stage = "spark"
gate = "observe"
run = ["true"]

[[job]]
name = "linux-x86"
stage = "forge"
run = ["true"]

[[job]]
name = "linux-arm"
stage = "forge"
run = ["true"]
"#,
        &[],
    );
    let out = p.run(&["export", "github-matrix"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let line = String::from_utf8(out.stdout).unwrap();
    let matrix: serde_json::Value =
        serde_json::from_str(line.trim().strip_prefix("matrix=").unwrap()).unwrap();
    let include = matrix["include"].as_array().unwrap();
    assert_eq!(include.len(), 2);
    assert_eq!(include[0]["name"], "unit");
    assert_eq!(
        include[0]["run"],
        "ironworks run-local unit --rev \"$GITHUB_SHA\""
    );
    assert_eq!(include[0]["timeout_minutes"], 11);
    assert_eq!(
        include[1]["continue_on_error"], true,
        "observe jobs do not fail the workflow"
    );

    let matrix = p.json(&[
        "export",
        "github-matrix",
        "--jobs",
        "linux-a*,linux-*",
        "--json",
    ]);
    let names: Vec<&str> = matrix["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["linux-arm", "linux-x86"],
        "pattern order, no duplicates"
    );
    let out = p.run(&["export", "github-matrix", "--jobs", "windows"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("job pattern `windows` matches no"),
        "{}",
        text(&out)
    );
}

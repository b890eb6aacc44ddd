//! Releases on real repositories: cut only from forge-green snapshots,
//! fixes only through temper, and verify names any commit nothing vetted.

mod common;

use common::*;
use serde_json::Value;

/// Forge fails when `red` exists; temper fails when `unpackageable` exists.
fn release_project() -> Project {
    Project::new(
        r#"[project]
id = "r"

[queue]
target = "main"

[[job]]
name = "unit"
stage = "spark"
run = ["true"]

[[job]]
name = "check"
stage = "forge"
script = "test ! -e red"

[[job]]
name = "package"
stage = "temper"
script = "test ! -e unpackageable"
"#,
        &[("a.txt", "a\n")],
    )
}

/// A green snapshot (one promoted PR) and, optionally, a red one after it.
fn snapshots(p: &Project, with_red: bool) -> (i64, Option<i64>) {
    branch(p, "good", &[("good", "1")]);
    ready_pr(p, "good", &[]);
    assert_eq!(p.run(&["queue", "run"]).status.code(), Some(0));
    let green = p.json(&["snapshots", "--json"])[0]["id"].as_i64().unwrap();
    if !with_red {
        return (green, None);
    }
    // Two PRs that only fail together: the head stays red (an interaction).
    branch(p, "x", &[("x", "1")]);
    branch(p, "y", &[("red", "1")]);
    ready_pr(p, "x", &[]);
    ready_pr(p, "y", &[]);
    let _ = p.run(&["queue", "run"]);
    let red = p
        .json(&["snapshots", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "red")
        .map(|s| s["id"].as_i64().unwrap());
    (green, red)
}

fn verify(p: &Project, version: &str) -> (Option<i32>, Value) {
    let out = p.run(&["release", "verify", version, "--json"]);
    let proof =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code(), proof)
}

#[test]
fn a_release_is_cut_only_from_a_green_snapshot_and_only_once() {
    let p = release_project();
    let (green, red) = snapshots(&p, true);
    let red = red.expect("a red snapshot");

    let out = p.run(&["release", "cut", "1.0", "--snapshot", &red.to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("is red: a release is cut only from a forge-green snapshot"),
        "{}",
        text(&out)
    );
    let out = p.run(&["release", "cut", "1.0", "--snapshot", "999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no snapshot 999"), "{}", text(&out));
    assert!(
        git(&p.repo(), &["branch", "--list", "release/*"]).is_empty(),
        "nothing was created"
    );

    let cut = p.json(&[
        "release",
        "cut",
        "1.0",
        "--snapshot",
        &green.to_string(),
        "--json",
    ]);
    assert_eq!(cut["branch"], "release/1.0");
    let snapshot = p
        .json(&["snapshots", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == green)
        .unwrap()
        .clone();
    assert_eq!(
        git(&p.repo(), &["rev-parse", "release/1.0"]).trim(),
        snapshot["commit"].as_str().unwrap()
    );

    let out = p.run(&["release", "cut", "1.0", "--snapshot", &green.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("release 1.0 was already cut"),
        "{}",
        text(&out)
    );
    let out = p.run(&["release", "cut", "../x", "--snapshot", &green.to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a release version"),
        "{}",
        text(&out)
    );

    let (code, proof) = verify(&p, "1.0");
    assert_eq!(code, Some(0), "{proof:#}");
    assert!(proof["offenders"].as_array().unwrap().is_empty());
    assert!(proof["commits_checked"].as_u64().unwrap() >= 2);
}

#[test]
fn a_commit_pushed_directly_to_the_release_branch_is_caught() {
    let p = release_project();
    let (green, _) = snapshots(&p, false);
    assert!(
        p.run(&["release", "cut", "1.0", "--snapshot", &green.to_string()])
            .status
            .success()
    );
    git(&p.repo(), &["checkout", "-q", "release/1.0"]);
    p.write("hotfix.txt", "straight to the branch\n");
    let pushed = p.commit("hotfix without review");
    git(&p.repo(), &["checkout", "-q", "main"]);

    let (code, proof) = verify(&p, "1.0");
    assert_eq!(code, Some(1), "{proof:#}");
    let offenders = proof["offenders"].as_array().unwrap();
    assert_eq!(offenders.len(), 1, "{proof:#}");
    assert_eq!(offenders[0]["commit"], pushed.as_str());
    assert_eq!(offenders[0]["subject"], "hotfix without review");
    let out = p.run(&["release", "verify", "1.0"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("UNVETTED"),
        "{}",
        text(&out)
    );
}

#[test]
fn release_fixes_land_only_through_temper_and_then_verify() {
    let p = release_project();
    let (green, _) = snapshots(&p, false);
    assert!(
        p.run(&["release", "cut", "1.0", "--snapshot", &green.to_string()])
            .status
            .success()
    );
    let base = git(&p.repo(), &["rev-parse", "release/1.0"])
        .trim()
        .to_owned();

    // A fix that breaks packaging: temper is red, nothing lands.
    git(
        &p.repo(),
        &["checkout", "-q", "-b", "bad-fix", "release/1.0"],
    );
    p.write("unpackageable", "x");
    p.commit("bad fix");
    git(
        &p.repo(),
        &["checkout", "-q", "-b", "good-fix", "release/1.0"],
    );
    p.write("fixed.txt", "fixed\n");
    p.commit("good fix");
    git(&p.repo(), &["checkout", "-q", "main"]);
    let open = |branch: &str| {
        let pr = p.json(&[
            "pr",
            "open",
            "--head",
            branch,
            "--target",
            "release/1.0",
            "--json",
        ]);
        let id = pr["id"].as_i64().unwrap().to_string();
        assert!(
            p.run(&["pr", "approve", &id, "--by", "rm"])
                .status
                .success()
        );
        id
    };
    let bad = open("bad-fix");
    let good = open("good-fix");

    let out = p.run(&["release", "fix", "1.0", "--pr", &bad, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["landed"], false);
    assert_eq!(
        git(&p.repo(), &["rev-parse", "release/1.0"]).trim(),
        base,
        "branch untouched"
    );

    let out = p.run(&["release", "fix", "1.0", "--pr", &good, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let outcome: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outcome["landed"], true);
    let head = git(&p.repo(), &["rev-parse", "release/1.0"])
        .trim()
        .to_owned();
    assert_eq!(outcome["merge_commit"], head.as_str());
    let message = git(&p.repo(), &["log", "-1", "--format=%B", &head]);
    assert!(message.contains("Target: release/1.0"), "{message}");

    let (code, proof) = verify(&p, "1.0");
    assert_eq!(code, Some(0), "{proof:#}");
    assert_eq!(
        proof["release_fixes"], 2,
        "the merge and the fix commit: {proof:#}"
    );

    // A PR for another branch cannot be landed as a release fix.
    let out = p.run(&["release", "fix", "1.0", "--pr", "1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("not `release/1.0`"), "{}", text(&out));
}

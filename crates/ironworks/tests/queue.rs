//! The promotion queue on real git repositories: post-merge promotion,
//! conflicts, triage (flake, culprit, interaction), try builds, PR heads,
//! crash recovery.

mod common;

use std::fs;

use common::*;
use serde_json::Value;

/// An adapter whose forge job runs `check` (a shell script) with MARKS set
/// to the scratch directory.
fn queue_adapter(check: &str, extra: &str) -> String {
    format!(
        r#"[project]
id = "q"

[queue]
target = "main"
{extra}

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

fn queue_run(p: &Project) -> (Option<i32>, Value) {
    let out = p.run(&["queue", "run", "--json"]);
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    (out.status.code(), report)
}

fn pr(p: &Project, id: i64) -> Value {
    p.json(&["pr", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|pr| pr["id"] == id)
        .cloned()
        .unwrap()
}

fn staging(p: &Project) -> String {
    git(&p.repo(), &["rev-parse", "staging"]).trim().to_owned()
}

fn triage(p: &Project) -> Vec<Value> {
    p.json(&["triage", "--json"]).as_array().unwrap().clone()
}

#[test]
fn promotion_is_a_no_ff_merge_with_trailers_and_forge_judges_the_snapshot() {
    let p = Project::new(&queue_adapter("true", ""), &[("a.txt", "a\n")]);
    let main_before = git(&p.repo(), &["rev-parse", "main"]);
    branch(&p, "feature", &[("b.txt", "b\n")]);
    let head = git(&p.repo(), &["rev-parse", "feature"]).trim().to_owned();
    let id = ready_pr(&p, "feature", &[]);

    let (code, report) = queue_run(&p);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["merged"], serde_json::json!([id]));
    assert_eq!(report["snapshot_status"], "green");

    let staging = staging(&p);
    let parents = git(&p.repo(), &["log", "-1", "--format=%P", &staging]);
    assert_eq!(parents.split_whitespace().count(), 2, "a --no-ff merge");
    assert!(parents.contains(&head));
    let message = git(&p.repo(), &["log", "-1", "--format=%B", &staging]);
    for trailer in [
        format!("PR: {id}"),
        format!("Head: {head}"),
        "Head-Ref: feature".into(),
        "Target: main".into(),
        "Promoted-At: ".into(),
    ] {
        assert!(
            message.contains(&trailer),
            "missing `{trailer}` in:\n{message}"
        );
    }
    // git itself parses them as trailers.
    let parsed = git(
        &p.repo(),
        &[
            "log",
            "-1",
            "--format=%(trailers:key=PR,valueonly)",
            &staging,
        ],
    );
    assert_eq!(parsed.trim(), id.to_string());
    assert_eq!(
        git(&p.repo(), &["rev-parse", "main"]),
        main_before,
        "main is untouched"
    );

    assert_eq!(pr(&p, id)["state"], "merged");
    let snapshots = p.json(&["snapshots", "--json"]);
    assert_eq!(snapshots[0]["commit"], staging.as_str());
    assert_eq!(snapshots[0]["status"], "green");
    assert_eq!(snapshots[0]["promotions"][0]["pr"], id);
    // Nothing more to do: a second run changes nothing.
    let (_, report) = queue_run(&p);
    assert_eq!(report["merged"], serde_json::json!([]));
    assert_eq!(self::staging(&p), staging);
}

#[test]
fn only_eligible_prs_are_promoted_in_priority_then_approval_order() {
    let p = Project::new(&queue_adapter("true", ""), &[]);
    branch(&p, "low", &[("low", "x")]);
    branch(&p, "high", &[("high", "x")]);
    branch(&p, "unlabelled", &[("unlabelled", "x")]);
    let low = ready_pr(&p, "low", &[]);
    let high = p.json(&["pr", "open", "--head", "high", "--priority", "5", "--json"])["id"]
        .as_i64()
        .unwrap();
    assert!(
        p.run(&["pr", "approve", &high.to_string(), "--by", "bob"])
            .status
            .success()
    );
    assert!(
        p.run(&["pr", "label", &high.to_string(), "ready-for-staging"])
            .status
            .success()
    );
    let unlabelled = p.json(&["pr", "open", "--head", "unlabelled", "--json"])["id"]
        .as_i64()
        .unwrap();
    assert!(
        p.run(&["pr", "approve", &unlabelled.to_string(), "--by", "bob"])
            .status
            .success()
    );

    let (_, report) = queue_run(&p);
    assert_eq!(report["merged"], serde_json::json!([high, low]));
    assert_eq!(pr(&p, unlabelled)["state"], "open");
}

#[test]
fn a_conflict_leaves_staging_untouched_and_the_queue_moves_on() {
    let p = Project::new(&queue_adapter("true", ""), &[("shared.txt", "base\n")]);
    branch(&p, "first", &[("shared.txt", "first\n")]);
    branch(&p, "clash", &[("shared.txt", "clash\n")]);
    branch(&p, "other", &[("other.txt", "other\n")]);
    let first = ready_pr(&p, "first", &[]);
    let clash = ready_pr(&p, "clash", &[]);
    let other = ready_pr(&p, "other", &[]);

    let (code, report) = queue_run(&p);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["merged"], serde_json::json!([first, other]));
    assert_eq!(report["conflicts"], serde_json::json!([clash]));
    let record = pr(&p, clash);
    assert_eq!(record["state"], "conflict");
    assert!(
        record["state_reason"]
            .as_str()
            .unwrap()
            .contains("shared.txt"),
        "{record:#}"
    );
    let content = git(&p.repo(), &["show", "staging:shared.txt"]);
    assert_eq!(content, "first\n");
    assert!(
        triage(&p)
            .iter()
            .any(|t| t["kind"] == "conflict" && t["prs"][0] == clash)
    );
}

#[test]
fn an_isolated_culprit_is_found_by_bisection_and_reverted() {
    let p = Project::new(&queue_adapter("test ! -e bad", ""), &[]);
    branch(&p, "good-1", &[("one", "1")]);
    branch(&p, "culprit", &[("bad", "boom")]);
    branch(&p, "good-2", &[("two", "2")]);
    let good1 = ready_pr(&p, "good-1", &[]);
    let culprit = ready_pr(&p, "culprit", &[]);
    let good2 = ready_pr(&p, "good-2", &[]);

    let (code, report) = queue_run(&p);
    assert_eq!(report["merged"], serde_json::json!([good1, culprit, good2]));
    assert_eq!(
        report["reverted"],
        serde_json::json!([culprit]),
        "{report:#}"
    );
    assert_eq!(report["snapshot_status"], "green", "{report:#}");
    assert_eq!(code, Some(0));

    let head = staging(&p);
    let message = git(&p.repo(), &["log", "-1", "--format=%B", &head]);
    assert!(
        message.starts_with(&format!("Revert promotion of PR #{culprit}")),
        "{message}"
    );
    assert!(message.contains("Reverts: "), "{message}");
    assert!(git(&p.repo(), &["ls-tree", "--name-only", &head]).contains("two"));
    assert!(!git(&p.repo(), &["ls-tree", "--name-only", &head]).contains("bad"));
    // History was not rewritten: the culprit's merge is still there.
    assert!(
        git(&p.repo(), &["log", "--format=%s", &head]).contains(&format!("Promote PR #{culprit}"))
    );

    assert_eq!(pr(&p, culprit)["state"], "reverted");
    assert_eq!(pr(&p, good1)["state"], "merged");
    let records = triage(&p);
    let record = records
        .iter()
        .find(|t| t["kind"] == "culprit")
        .expect("a culprit record");
    assert_eq!(record["prs"], serde_json::json!([culprit]));
    assert!(
        record["summary"]
            .as_str()
            .unwrap()
            .contains("reverted on staging"),
        "{record:#}"
    );
    assert!(
        record["runs"].as_array().unwrap().len() >= 3,
        "evidence runs: {record:#}"
    );
}

#[test]
fn an_interaction_of_two_prs_that_pass_alone_is_recorded_not_reverted() {
    let p = Project::new(&queue_adapter("! { test -e x && test -e y; }", ""), &[]);
    branch(&p, "x", &[("x", "x")]);
    branch(&p, "y", &[("y", "y")]);
    let x = ready_pr(&p, "x", &[]);
    let y = ready_pr(&p, "y", &[]);

    let (code, report) = queue_run(&p);
    assert_eq!(code, Some(1), "staging stays red: {report:#}");
    assert_eq!(report["reverted"], serde_json::json!([]));
    let records = triage(&p);
    let record = records
        .iter()
        .find(|t| t["kind"] == "interaction")
        .expect("an interaction record");
    assert_eq!(record["prs"], serde_json::json!([x, y]));
    assert!(
        record["summary"].as_str().unwrap().contains("passes alone"),
        "{record:#}"
    );
    assert_eq!(pr(&p, x)["state"], "merged");
    assert_eq!(pr(&p, y)["state"], "merged");
}

#[test]
fn a_failure_that_passes_on_rerun_is_a_flake_and_over_budget_the_job_is_demoted() {
    // Fails the first time it ever runs, passes after.
    let check = r#"if [ ! -e "$MARKS/flaked" ]; then touch "$MARKS/flaked"; exit 1; fi"#;
    let p = Project::new(&queue_adapter(check, "flake-budget = 0"), &[]);
    branch(&p, "feature", &[("f", "f")]);
    ready_pr(&p, "feature", &[]);

    let (code, report) = queue_run(&p);
    assert_eq!(code, Some(0), "{report:#}");
    assert_eq!(report["snapshot_status"], "green");
    let records = triage(&p);
    let flake = records
        .iter()
        .find(|t| t["kind"] == "flake")
        .expect("a flake record");
    assert_eq!(flake["job"], "check");
    assert_eq!(flake["runs"].as_array().unwrap().len(), 2);
    let demotion = records
        .iter()
        .find(|t| t["kind"] == "demotion")
        .expect("a demotion record");
    assert_eq!(demotion["job"], "check");
    assert!(
        demotion["summary"]
            .as_str()
            .unwrap()
            .contains("demoted to observe"),
        "{demotion:#}"
    );

    // From now on `check` runs as observe: its failure no longer gates forge.
    let out = p.run(&["run", "forge", "--rev", "staging", "--json"]);
    let detail: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(detail["jobs"][0]["gate"], "observe", "{detail:#}");
}

#[test]
fn a_new_head_resets_approval_and_spark_and_a_vanished_head_closes_the_pr() {
    let p = Project::new(&queue_adapter("true", ""), &[]);
    branch(&p, "feature", &[("f", "1")]);
    branch(&p, "gone", &[("g", "1")]);
    let id = ready_pr(&p, "feature", &[]);
    let gone = ready_pr(&p, "gone", &[]);
    let first_head = pr(&p, id)["head_sha"].as_str().unwrap().to_owned();

    git(&p.repo(), &["checkout", "-q", "feature"]);
    p.write("f", "2");
    let new_head = p.commit("push");
    git(&p.repo(), &["checkout", "-q", "main"]);
    git(&p.repo(), &["branch", "-D", "gone"]);

    assert!(p.run(&["pr", "sync", &id.to_string()]).status.success());
    let record = pr(&p, id);
    assert_eq!(record["head_sha"], new_head.as_str());
    assert_ne!(record["head_sha"], first_head.as_str());
    assert!(
        record["approved_by"].is_null(),
        "approval is reset: {record:#}"
    );
    assert_eq!(
        record["spark_sha"],
        new_head.as_str(),
        "spark ran on the new head"
    );

    let (_, report) = queue_run(&p);
    assert_eq!(
        report["merged"],
        serde_json::json!([]),
        "nothing is eligible: {report:#}"
    );
    let closed = pr(&p, gone);
    assert_eq!(closed["state"], "closed");
    assert!(
        closed["state_reason"]
            .as_str()
            .unwrap()
            .contains("no longer exists")
    );
}

#[test]
fn a_crash_around_the_ref_update_leaves_store_and_git_in_agreement() {
    for (fault, landed) in [
        ("promotion-before-ref", false),
        ("promotion-after-ref", true),
    ] {
        let p = Project::new(&queue_adapter("true", ""), &[]);
        branch(&p, "feature", &[("f", "1")]);
        let id = ready_pr(&p, "feature", &[]);
        let out = p
            .command(&["queue", "run"])
            .env("IRONWORKS_FAULT", fault)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{fault}: {}", text(&out));
        let staged = git(&p.repo(), &["log", "--format=%s", "staging"]).contains("Promote PR");
        assert_eq!(staged, landed, "{fault}");

        // The next run reconciles, then carries on.
        let (code, report) = queue_run(&p);
        assert_eq!(code, Some(0), "{fault}: {report:#}");
        let record = pr(&p, id);
        assert_eq!(record["state"], "merged", "{fault}: {record:#}");
        // Exactly one promotion of the PR, recorded and on staging.
        let log = git(&p.repo(), &["log", "--format=%s", "staging"]);
        assert_eq!(log.matches("Promote PR").count(), 1, "{fault}: {log}");
        let snapshots = p.json(&["snapshots", "--json"]);
        let promotions: usize = snapshots
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["promotions"].as_array().unwrap().len())
            .sum();
        assert_eq!(promotions, 1, "{fault}: {snapshots:#}");
    }
}

#[test]
fn a_target_someone_moved_is_never_forced() {
    let p = Project::new(&queue_adapter("true", "fast-forward-target = true"), &[]);
    branch(&p, "one", &[("one", "1")]);
    ready_pr(&p, "one", &[]);
    let (_, report) = queue_run(&p);
    let staging = staging(&p);
    assert_eq!(
        git(&p.repo(), &["rev-parse", "main"]).trim(),
        staging,
        "main follows green staging"
    );

    // Someone commits to main directly: it diverges from staging (the next
    // PR was cut before that commit, so staging never contains it).
    branch(&p, "two", &[("two", "2")]);
    p.write("direct", "x");
    let direct = p.commit("direct push");
    ready_pr(&p, "two", &[]);
    let (_, report2) = queue_run(&p);
    assert_eq!(
        git(&p.repo(), &["rev-parse", "main"]).trim(),
        direct,
        "{report:#} {report2:#}"
    );
    assert!(
        report2["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("never forced")),
        "{report2:#}"
    );
}

#[test]
fn try_builds_select_jobs_by_pattern_without_promoting() {
    let mut jobs = String::from(
        "[project]\nid = \"q\"\n[queue]\ntarget = \"main\"\n[[job]]\nname = \"unit\"\nstage = \"spark\"\nrun = [\"true\"]\n",
    );
    for name in ["linux-x86", "linux-arm", "windows"] {
        jobs.push_str(&format!(
            "[[job]]\nname = \"{name}\"\nstage = \"forge\"\nrun = [\"true\"]\n"
        ));
    }
    for i in 0..21 {
        jobs.push_str(&format!(
            "[[job]]\nname = \"many-{i:02}\"\nstage = \"forge\"\noptional = true\nrun = [\"true\"]\n"
        ));
    }
    let p = Project::new(&jobs, &[]);
    branch(&p, "feature", &[("f", "1")]);
    let id = p.json(&["pr", "open", "--head", "feature", "--json"])["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let staging_before = git(&p.repo(), &["rev-parse", "main"]);

    let out = p.run(&["try", &id, "--jobs", "windows,linux-*", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = detail["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["job"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["windows", "linux-x86", "linux-arm"]);
    assert_eq!(detail["purpose"], "try");
    assert_eq!(
        git(&p.repo(), &["rev-parse", "staging"]),
        staging_before,
        "staging did not move"
    );
    let tried = git(
        &p.repo(),
        &["rev-parse", &format!("refs/ironworks/try/{id}")],
    );
    assert_eq!(tried.trim(), detail["commit"].as_str().unwrap());

    let out = p.run(&["try", &id, "--jobs", "linux-*,mac*"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("job pattern `mac*` matches no"),
        "{}",
        text(&out)
    );

    let out = p.run(&["try", &id, "--jobs", "many-*"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("select 21 jobs, more than the limit of 20"),
        "{}",
        text(&out)
    );
    let out = p.run(&["try", &id, "--jobs", "many-*", "--no-limit", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let detail: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(detail["jobs"].as_array().unwrap().len(), 21);
}

#[test]
fn bad_pr_input_is_refused_and_changes_nothing() {
    let p = Project::new(&queue_adapter("true", ""), &[]);
    let out = p.run(&["pr", "open", "--head", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("revision `no-such-branch` does not name a commit"),
        "{}",
        text(&out)
    );
    let out = p.run(&["pr", "approve", "7", "--by", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no PR #7"), "{}", text(&out));
    let out = p.run(&["pr", "open", "--head", "main", "--rollup", "sometimes"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown rollup `sometimes`"),
        "{}",
        text(&out)
    );
    assert!(
        p.json(&["pr", "list", "--json"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    let _ = fs::metadata(p.repo());
}

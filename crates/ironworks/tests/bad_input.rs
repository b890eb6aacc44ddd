//! Bad input: a clear message, a non-zero exit, and nothing recorded as success.

mod common;

use std::fs;

use common::*;

const OK_JOB: &str = r#"
[[job]]
name = "unit"
stage = "spark"
run = ["true"]
"#;

/// No run was recorded: the state has no runs (or does not exist).
fn assert_nothing_recorded(p: &Project) {
    if p.repo().join(".ironworks/state.db").exists() {
        assert!(p.runs().is_empty(), "a run was recorded: {:?}", p.runs());
    }
}

#[test]
fn a_nonexistent_source() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    let out = p.run(&["run", "spark", "--source", "/nonexistent/source"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("source /nonexistent/source does not exist"),
        "{err}"
    );
    assert!(err.contains("help: pass --source"), "{err}");
    assert_nothing_recorded(&p);
}

#[test]
fn a_source_that_is_not_a_repository() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    let out = p.run(&[
        "run",
        "spark",
        "--source",
        &p.scratch().display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("is not a git repository"),
        "{}",
        text(&out)
    );
    assert_nothing_recorded(&p);
}

#[test]
fn a_revision_that_does_not_exist() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    for rev in [
        "no-such-branch",
        "--all",
        "0123456789abcdef0123456789abcdef01234567",
    ] {
        let out = p.run(&["run", "spark", &format!("--rev={rev}")]);
        assert_eq!(out.status.code(), Some(2), "{rev}: {}", text(&out));
        assert!(
            stderr(&out).contains(&format!("revision `{rev}` does not name a commit")),
            "{}",
            text(&out)
        );
    }
    assert_nothing_recorded(&p);
}

#[test]
fn malformed_toml_points_at_the_line_and_column() {
    let p = Project::new(
        "[project]\nid = \"t\"\n[[job]]\nname = \"a\"\nstage = spark\n",
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("ironworks.toml:5:9:"), "{err}");
    assert!(err.contains("5 | stage = spark"), "{err}");
    assert_nothing_recorded(&p);
}

#[test]
fn a_needs_cycle_is_rejected_before_anything_runs() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "a"
stage = "spark"
run = ["true"]
needs = ["b"]

[[job]]
name = "b"
stage = "spark"
run = ["true"]
needs = ["a"]
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("`needs` forms a cycle: a -> b -> a"), "{err}");
    assert!(err.contains("ironworks.toml:9:"), "{err}");
    assert_nothing_recorded(&p);
    // `adapter check` says the same, with the same exit code.
    let out = p.run(&["adapter", "check"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("forms a cycle"));
}

#[test]
fn a_missing_program_fails_its_job_and_the_others_still_run() {
    let p = Project::new(
        &adapter(
            r#"
[[job]]
name = "ghost"
stage = "spark"
run = ["no-such-program-ironworks", "--flag"]

[[job]]
name = "relative"
stage = "spark"
run = ["./scripts/missing.sh"]

[[job]]
name = "fine"
stage = "spark"
run = ["true"]
"#,
        ),
        &[],
    );
    let out = p.run(&["run", "spark", "--jobs", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let detail = p.show(1);
    let ghost = p.job(&detail, "ghost");
    assert_eq!(ghost["status"], "failed");
    assert!(
        ghost["reason"]
            .as_str()
            .unwrap()
            .contains("program `no-such-program-ironworks` not found on the job's PATH"),
        "{ghost:#}"
    );
    let relative = p.job(&detail, "relative");
    assert!(
        relative["reason"]
            .as_str()
            .unwrap()
            .contains("not found (relative to"),
        "{relative:#}"
    );
    assert_eq!(p.job(&detail, "fine")["status"], "passed");
}

#[test]
fn an_unknown_stage_on_the_command_line() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    let out = p.run(&["run", "deploy"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("unknown stage `deploy`"),
        "{}",
        text(&out)
    );
    assert_nothing_recorded(&p);
}

#[test]
fn a_stage_that_is_not_enabled_or_has_no_jobs() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    let out = p.run(&["run", "stamp"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("stage stamp is not enabled for project `t`"),
        "{}",
        text(&out)
    );
    assert!(
        stderr(&out).contains("add \"stamp\" to `enable`"),
        "{}",
        text(&out)
    );
    let out = p.run(&["run", "forge"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains("stage forge has no jobs"),
        "{}",
        text(&out)
    );
    assert_nothing_recorded(&p);
}

#[test]
fn an_unwritable_state_directory() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    // A path under a regular file can never be created, not even by root.
    let blocker = p.scratch().join("file");
    fs::write(&blocker, "").unwrap();
    let state = blocker.join("state");
    let out = p.run(&["run", "spark", "--state-dir", &state.display().to_string()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&format!("cannot use state directory {}", state.display())),
        "{err}"
    );
    assert!(err.contains("--state-dir"), "{err}");
    // Same through the environment variable.
    let out = p
        .command(&["runs"])
        .env("IRONWORKS_STATE_DIR", &state)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

#[test]
fn no_adapter_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["stages"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("no ironworks.toml in"), "{err}");
    assert!(err.contains("ironworks demo"), "{err}");
}

#[test]
fn show_of_an_unknown_run_or_job() {
    let p = Project::new(&adapter(OK_JOB), &[]);
    assert_eq!(p.run(&["run", "spark"]).status.code(), Some(0));
    let out = p.run(&["show", "42"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no run 42"), "{}", text(&out));
    let out = p.run(&["show", "1", "--log", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("its jobs are: unit"),
        "{}",
        text(&out)
    );
}

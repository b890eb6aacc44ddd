//! `ironworks matrix` through the real binary, on rust-lang's own citool
//! test input: stdout must equal that tool's output byte for byte.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ironworks-core/tests/fixtures/rust-ci")
}

fn matrix(event: &str, git_ref: &str, message: &str) -> std::process::Output {
    Command::new(BIN)
        .args(["matrix", "--jobs-file"])
        .arg(fixtures().join("test-jobs.yml"))
        .args(["--channel", "nightly"])
        .env_clear()
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_REF", git_ref)
        .env("COMMIT_MESSAGE", message)
        .env("GITHUB_RUN_ID", "123")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .output()
        .unwrap()
}

#[test]
fn every_fixture_case_matches_byte_for_byte() {
    let custom = "This is a test PR\n\ntry-job: aarch64-gnu\ntry-job: dist-i686-msvc";
    for (file, event, git_ref, message) in [
        ("expected_auto.txt", "push", "refs/heads/auto", "commit"),
        ("expected_try.txt", "push", "refs/heads/try", "commit"),
        ("expected_try_custom.txt", "push", "refs/heads/try", custom),
        (
            "expected_pr.txt",
            "pull_request",
            "refs/heads/pr/1234",
            "commit",
        ),
        ("expected_master.txt", "push", "refs/heads/master", "commit"),
    ] {
        let out = matrix(event, git_ref, message);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", text(&out));
        let expected = std::fs::read(fixtures().join(file)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&expected),
            "{file}"
        );
    }
}

#[test]
fn an_unmatched_try_pattern_fails_the_run_with_a_clear_message() {
    let out = matrix("push", "refs/heads/try", "try-job: no-such-job");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("no-such-job"), "{}", text(&out));
    assert!(out.stdout.is_empty(), "nothing printed on failure");
}

#[test]
fn a_missing_environment_variable_is_named() {
    let out = Command::new(BIN)
        .args(["matrix", "--jobs-file"])
        .arg(fixtures().join("test-jobs.yml"))
        .env_clear()
        .env("GITHUB_REF", "refs/heads/auto")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("GITHUB_EVENT_NAME"), "{}", text(&out));
}

#[test]
fn a_yaml_error_names_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jobs.yml");
    std::fs::write(&file, "runners:\n  - &a\n    os: [unclosed\n").unwrap();
    let out = Command::new(BIN)
        .args(["matrix", "--jobs-file"])
        .arg(&file)
        .env_clear()
        .env("GITHUB_EVENT_NAME", "push")
        .env("GITHUB_REF", "refs/heads/auto")
        .env("COMMIT_MESSAGE", "x")
        .env("GITHUB_RUN_ID", "1")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        stderr(&out).contains(&format!("{}:", file.display())),
        "{}",
        text(&out)
    );
}

//! rust-lang's own `calculate-job-matrix` test cases, byte for byte.
//!
//! `tests/fixtures/rust-ci/` is a copy of rust-lang/rust's citool test input
//! (`test-jobs.yml`), its expected outputs and `cases.md`, which says which
//! GitHub variables produce which output. The cases are read from the table
//! in `cases.md`, so a case added there is a case tested here.

use std::path::{Path, PathBuf};

use ironworks_core::citool::{DEFAULT_CHANNEL, GithubContext, calculate_job_matrix};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rust-ci")
}

/// The shared copy the fixtures came from (`shared/` beside the workspace).
fn shared_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rust-ci")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Debug)]
struct Case {
    expected_file: String,
    ctx: GithubContext,
}

/// The backticked cell of the table, with `\n` standing for a newline.
fn cell(text: &str) -> String {
    text.trim().trim_matches('`').replace("\\n", "\n")
}

fn cases(cases_md: &str) -> (Vec<Case>, String) {
    // The environment every case shares: indented `NAME=value` lines.
    let shared: Vec<(&str, &str)> = cases_md
        .lines()
        .filter(|l| l.starts_with("    "))
        .filter_map(|l| l.trim().split_once('='))
        .collect();
    let var = |name: &str| {
        shared
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    };
    let channel = cases_md
        .lines()
        .find_map(|l| l.strip_prefix("The channel (for `only_on_channel`) is `"))
        .and_then(|rest| rest.split('`').next())
        .expect("cases.md names the channel")
        .to_string();
    let cases = cases_md
        .lines()
        .filter(|l| l.starts_with("| expected_"))
        .map(|row| {
            let cells: Vec<&str> = row.trim().trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 4, "row {row:?}");
            Case {
                expected_file: cells[0].trim().to_string(),
                ctx: GithubContext {
                    event_name: Some(cell(cells[1])),
                    git_ref: Some(cell(cells[2])),
                    commit_message: Some(cell(cells[3])),
                    run_id: var("GITHUB_RUN_ID"),
                    run_attempt: var("GITHUB_RUN_ATTEMPT"),
                },
            }
        })
        .collect();
    (cases, channel)
}

#[test]
fn rust_lang_cases_byte_for_byte() {
    let dir = fixtures();
    let (cases, channel) = cases(&read(&dir.join("cases.md")));
    assert_eq!(channel, DEFAULT_CHANNEL);

    let expected_files = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("expected_"))
        .count();
    assert_eq!(cases.len(), 5);
    assert_eq!(
        cases.len(),
        expected_files,
        "every expected file has a case"
    );

    let jobs = read(&dir.join("test-jobs.yml"));
    for case in &cases {
        assert_eq!(case.ctx.run_id.as_deref(), Some("123"));
        let expected = read(&dir.join(&case.expected_file));
        let actual = calculate_job_matrix(&jobs, "test-jobs.yml", &case.ctx, &channel)
            .unwrap_or_else(|e| panic!("{}: {e}\n  help: {}", case.expected_file, e.help()));
        assert!(
            actual == expected,
            "{} differs\nexpected: {expected}\nactual:   {actual}",
            case.expected_file
        );
    }
}

#[test]
fn try_custom_commit_message_is_multi_line() {
    let (cases, _) = cases(&read(&fixtures().join("cases.md")));
    let custom = cases
        .iter()
        .find(|c| c.expected_file == "expected_try_custom.txt")
        .unwrap();
    assert_eq!(
        custom.ctx.commit_message.as_deref(),
        Some("This is a test PR\n\ntry-job: aarch64-gnu\ntry-job: dist-i686-msvc")
    );
}

/// The in-repository copy must not drift from the shared fixtures. Where
/// `shared/` is not checked out beside the workspace there is nothing to
/// compare against, and the test says so.
#[test]
fn copy_matches_shared_fixtures() {
    let shared = shared_fixtures();
    if !shared.is_dir() {
        eprintln!("{} not present; copy not compared", shared.display());
        return;
    }
    let mut compared = 0;
    for entry in std::fs::read_dir(&shared).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap();
        let copy = fixtures().join(name);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(&copy).unwrap_or_default(),
            "{} differs from {}",
            copy.display(),
            path.display()
        );
        compared += 1;
    }
    assert_eq!(compared, 7);
}

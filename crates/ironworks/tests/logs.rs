//! `ironworks logs` end to end: a job with a noisy log passes a few times,
//! its logs are learned, then it fails with an error block; `logs explain`
//! must return that block and not the noise.

mod common;

use std::fs;

use common::*;
use serde_json::Value;

/// A job whose log varies from run to run in timestamps, ids, pids, temp
/// paths, durations and colours, but not in what it says. With the marker
/// file `fail` in the scratch directory it prints an error block in the
/// middle (one line of it not UTF-8) and fails.
const NOISY: &str = r#"
[[job]]
name = "test"
stage = "spark"
env = { MARKS = "{TMP}" }
script = """
stamp=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
id=$(od -An -N8 -tx1 /dev/urandom | tr -d ' \\n')
printf '\\033[1m\\033[32m   Compiling\\033[0m node v0.1.0 (%s)\\n' "$PWD"
printf 'build id %s started by pid %d at %s\\n' "$id" "$$" "$stamp"
i=0
while [ $i -lt 60 ]; do
  printf '%s [%05d] test suite_%d::case_%d ... \\033[32mok\\033[0m (%d ms)\\n' "$stamp" $i $((i % 7)) $i $(( ($$ + i * 37) % 997 ))
  if [ $i -eq 30 ] && [ -f "$MARKS/fail" ]; then
    printf "thread 'consensus::reorg' panicked at src/consensus.rs:214:9:\\n"
    printf 'assertion `left == right` failed: tip mismatch\\n'
    printf '  left: 0x3fa9c2\\n right: 0x3fa9c3\\n'
    printf 'fatal: bad frame \\377\\376 in %s/blocks/blk00042.dat\\n' "$PWD"
  fi
  i=$((i + 1))
done
printf 'wrote %s/target/report-%s.xml\\n' "$PWD" "$id"
printf 'test result: ok. 60 passed; 0 failed; finished in %d.%02ds\\n' $(($$ % 9)) $(($$ % 100))
if [ -f "$MARKS/fail" ]; then exit 1; fi
"""
"#;

fn unusual_lines(job: &Value) -> Vec<String> {
    job["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["lines"].as_array().unwrap().iter())
        .filter(|l| l["unusual"] == true)
        .map(|l| l["text"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn explain_returns_the_injected_error_block_and_not_the_noise() {
    let p = Project::new(&adapter(NOISY), &[]);
    for _ in 0..3 {
        let out = p.run(&["run", "spark"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    }
    let learned = p.json(&["logs", "learn", "--json"]);
    // Whether the runner learned the green runs already or `learn` did,
    // afterwards each is learned exactly once.
    let again = p.json(&["logs", "learn", "--json"]);
    assert_eq!(again, Value::Array(vec![]), "{learned:#}");
    let first = p.runs().last().unwrap()["id"].as_i64().unwrap();
    let once_more = p.json(&["logs", "learn", &first.to_string(), "--json"]);
    assert_eq!(once_more[0]["already_learned"], true);
    assert_eq!(once_more[0]["jobs"], 0);

    fs::write(p.scratch().join("fail"), "").unwrap();
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failed = p.runs()[0]["id"].as_i64().unwrap();

    let explained = p.json(&["logs", "explain", &failed.to_string(), "--json"]);
    assert_eq!(explained["run"], failed);
    assert_eq!(explained["project"], "t");
    assert_eq!(explained["status"], "red");
    assert_eq!(explained["index"]["runs_learned"], 3, "{explained:#}");
    let jobs = explained["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0];
    assert_eq!(job["job"], "test");
    assert_eq!(job["status"], "failed");
    assert!(job["log"].as_str().unwrap().ends_with("/test.log"));
    assert_eq!(job["error"], Value::Null);
    assert_eq!(job["lines"], 69, "{job:#}");

    let unusual = unusual_lines(job);
    assert_eq!(unusual.len(), 5, "{job:#}");
    assert_eq!(
        unusual[..4],
        [
            "thread 'consensus::reorg' panicked at src/consensus.rs:214:9:",
            "assertion `left == right` failed: tip mismatch",
            "  left: 0x3fa9c2",
            " right: 0x3fa9c3",
        ]
    );
    // Not UTF-8 in the log: shown lossily.
    assert!(
        unusual[4].starts_with("fatal: bad frame \u{fffd}\u{fffd} in /"),
        "{}",
        unusual[4]
    );
    let blocks = job["blocks"].as_array().unwrap();
    assert_eq!(blocks.len(), 1, "{job:#}");
    assert_eq!(blocks[0]["rank"], 1);
    // Two context lines each side, and nothing else.
    let lines = blocks[0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 9, "{job:#}");
    assert!(lines[0]["text"].as_str().unwrap().contains("test suite_"));
    assert_eq!(
        lines[2]["number"],
        blocks[0]["first_line"].as_i64().unwrap() + 2
    );

    // The text form names the job, its log and the block.
    let out = p.run(&["logs", "explain", &failed.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("job `test` failed"), "{stdout}");
    assert!(stdout.contains("/test.log"), "{stdout}");
    assert!(
        stdout.contains("> thread 'consensus::reorg' panicked"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("> 20"),
        "noise reported as unusual:\n{stdout}"
    );
}

#[test]
fn a_run_without_failures_and_an_unknown_run() {
    let p = Project::new(&adapter(NOISY), &[]);
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let green = p.runs()[0]["id"].as_i64().unwrap().to_string();

    let explained = p.json(&["logs", "explain", &green, "--json"]);
    assert_eq!(explained["jobs"], Value::Array(vec![]));
    let out = p.run(&["logs", "explain", &green]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("no failed jobs in run {green}")),
        "{}",
        text(&out)
    );

    let out = p.run(&["logs", "explain", "999"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("no run 999"), "{}", text(&out));
    let out = p.run(&["logs", "learn", "999"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn without_learning_everything_is_unusual_but_the_error_ranks_first() {
    let p = Project::new(&adapter(NOISY), &[]);
    fs::write(p.scratch().join("fail"), "").unwrap();
    let out = p.run(&["run", "spark"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failed = p.runs()[0]["id"].as_i64().unwrap().to_string();
    let explained = p.json(&["logs", "explain", &failed, "--json"]);
    assert_eq!(explained["index"]["runs_learned"], 0);
    let job = &explained["jobs"][0];
    let lines: usize = job["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["lines"].as_array().unwrap().len())
        .sum();
    assert!(lines <= 40, "{lines} lines reported");
    let best = job["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["rank"] == 1)
        .unwrap();
    let text = serde_json::to_string(best).unwrap();
    assert!(text.contains("panicked"), "{job:#}");
}

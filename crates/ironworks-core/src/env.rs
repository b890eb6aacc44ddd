//! The environment a job sees: a minimal, deterministic base, the variables
//! Ironworks sets to describe the run, the host variables the adapter names in
//! `pass_env`, and the job's declared `env`. Nothing else from the environment
//! Ironworks runs in reaches a job, so its own credentials never do.

use std::collections::BTreeMap;

use crate::adapter::Job;

/// PATH when the host has none.
pub const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";

/// Host variables every job gets, when the host has them: finding programs
/// and the user's tool installations (rustup, cargo, go) needs them, and none
/// carries a credential.
pub const BASE_PASSTHROUGH: &[&str] = &["PATH", "HOME", "USER", "LOGNAME"];

/// What Ironworks tells a job about the run it belongs to.
#[derive(Debug, Clone)]
pub struct RunContext<'a> {
    pub project: &'a str,
    pub stage: &'a str,
    pub commit: &'a str,
    pub run_id: i64,
    /// Random per run; lets recovery find processes of a run whose owner died.
    pub run_token: &'a str,
    /// A private temporary directory for the job.
    pub tmpdir: &'a str,
}

/// The complete environment for `job`, sorted by name. `host` looks a
/// variable up in the environment Ironworks itself runs in.
pub fn job_environment(
    job: &Job,
    run: &RunContext<'_>,
    host: impl Fn(&str) -> Option<String>,
) -> Vec<(String, String)> {
    let mut env = BTreeMap::new();
    for name in BASE_PASSTHROUGH {
        if let Some(value) = host(name) {
            env.insert((*name).to_owned(), value);
        }
    }
    env.entry("PATH".to_owned())
        .or_insert_with(|| FALLBACK_PATH.to_owned());
    // Deterministic defaults, so a job behaves the same on a laptop and in CI.
    for (name, value) in [
        ("LANG", "C.UTF-8"),
        ("TZ", "UTC"),
        ("TERM", "dumb"),
        ("CI", "true"),
        ("TMPDIR", run.tmpdir),
    ] {
        env.insert(name.to_owned(), value.to_owned());
    }
    for name in &job.pass_env {
        if let Some(value) = host(name) {
            env.insert(name.clone(), value);
        }
    }
    for (name, value) in &job.env {
        env.insert(name.clone(), value.clone());
    }
    // Last, so nothing can override them (declaring them is rejected anyway).
    for (name, value) in [
        ("IRONWORKS", "1".to_owned()),
        ("IRONWORKS_PROJECT", run.project.to_owned()),
        ("IRONWORKS_STAGE", run.stage.to_owned()),
        ("IRONWORKS_JOB", job.name.clone()),
        ("IRONWORKS_COMMIT", run.commit.to_owned()),
        ("IRONWORKS_RUN_ID", run.run_id.to_string()),
        ("IRONWORKS_RUN_TOKEN", run.run_token.to_owned()),
    ] {
        env.insert(name.to_owned(), value);
    }
    env.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::Adapter;

    #[test]
    fn only_the_base_pass_env_and_declared_variables_reach_a_job() {
        let adapter = Adapter::parse(
            "t.toml",
            r#"
[project]
id = "p"
[[job]]
name = "unit"
stage = "spark"
run = ["x"]
pass_env = ["CARGO_HOME", "NOT_SET"]
env = { RUST_BACKTRACE = "1", LANG = "en_US.UTF-8" }
"#,
        )
        .unwrap();
        let host = |name: &str| match name {
            "PATH" => Some("/host/bin".to_owned()),
            "HOME" => Some("/home/me".to_owned()),
            "CARGO_HOME" => Some("/home/me/.cargo".to_owned()),
            "AWS_SECRET_ACCESS_KEY" | "IRONWORKS_TOKEN" => Some("secret".to_owned()),
            _ => None,
        };
        let run = RunContext {
            project: "p",
            stage: "spark",
            commit: "abc",
            run_id: 7,
            run_token: "tok",
            tmpdir: "/tmp/job",
        };
        let env: BTreeMap<_, _> = job_environment(&adapter.jobs[0], &run, host)
            .into_iter()
            .collect();
        assert_eq!(env["PATH"], "/host/bin");
        assert_eq!(env["CARGO_HOME"], "/home/me/.cargo");
        assert_eq!(
            env["LANG"], "en_US.UTF-8",
            "declared env wins over defaults"
        );
        assert_eq!(env["RUST_BACKTRACE"], "1");
        assert_eq!(env["IRONWORKS_JOB"], "unit");
        assert_eq!(env["IRONWORKS_RUN_ID"], "7");
        assert_eq!(env["TMPDIR"], "/tmp/job");
        assert!(!env.contains_key("AWS_SECRET_ACCESS_KEY"));
        assert!(!env.contains_key("IRONWORKS_TOKEN"));
        assert!(!env.contains_key("NOT_SET"));
    }

    #[test]
    fn path_has_a_fallback() {
        let adapter = Adapter::parse(
            "t.toml",
            "[project]\nid = \"p\"\n[[job]]\nname = \"a\"\nstage = \"spark\"\nrun = [\"x\"]\n",
        )
        .unwrap();
        let run = RunContext {
            project: "p",
            stage: "spark",
            commit: "c",
            run_id: 1,
            run_token: "t",
            tmpdir: "/t",
        };
        let env: BTreeMap<_, _> = job_environment(&adapter.jobs[0], &run, |_| None)
            .into_iter()
            .collect();
        assert_eq!(env["PATH"], FALLBACK_PATH);
        assert!(!env.contains_key("HOME"));
    }
}

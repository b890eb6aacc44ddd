//! Run types, try-job selection and the rendered matrix.

use super::*;

const JOBS: &str = r#"
runners:
  - &linux
    os: ubuntu-24.04
    env: {}
  - &codebuild
    os: codebuild-ubuntu-22-8c-$github.run_id-$github.run_attempt
    codebuild: true
    env: {}
envs:
  production: &production
    DEPLOY_BUCKET: bucket
    TOOLSTATE_PUBLISH: 1
  pr:
    PR_CI_JOB: 1
  try:
    <<: *production
  auto:
    <<: *production
pr:
  - name: tidy
    continue_on_error: true
    <<: *linux
try:
  - name: dist-x86_64-linux
    env:
      CODEGEN_BACKENDS: llvm,cranelift
    <<: *linux
auto:
  - name: dist-a
    <<: *linux
  - name: dist-b
    env:
      TOOLSTATE_PUBLISH: 0
      MACOSX_DEPLOYMENT_TARGET: 11.0
      READ_ONLY_SRC: "0"
    <<: *linux
  - name: test-a
    <<: *codebuild
  - name: beta-only
    only_on_channel: beta
    <<: *linux
optional:
  - name: dist-opt
    <<: *linux
  - name: test-a
    os: other
    env: {}
"#;

fn ctx(event: &str, git_ref: &str, message: &str) -> GithubContext {
    GithubContext {
        event_name: Some(event.into()),
        git_ref: Some(git_ref.into()),
        commit_message: Some(message.into()),
        run_id: Some("123".into()),
        run_attempt: Some("1".into()),
    }
}

fn matrix(ctx: &GithubContext, channel: &str) -> Result<Matrix, CitoolError> {
    let db = JobsFile::load(JOBS, "jobs.yml")?;
    matrix::calculate(&db, ctx.run_type()?, ctx, channel)
}

fn names(m: &Matrix) -> Vec<&str> {
    m.jobs.iter().map(|j| j.name.as_str()).collect()
}

fn try_with(message: &str) -> Result<Matrix, CitoolError> {
    matrix(&ctx("push", "refs/heads/try", message), "nightly")
}

#[test]
fn run_types() {
    let cases = [
        ("pull_request", "refs/heads/anything", RunType::PullRequest),
        ("push", "refs/heads/auto", RunType::Auto),
        ("push", "refs/heads/master", RunType::Master),
        ("push", "refs/heads/try", RunType::Try { patterns: None }),
        (
            "push",
            "refs/heads/try-perf",
            RunType::Try { patterns: None },
        ),
        (
            "push",
            "refs/heads/automation/bors/try",
            RunType::Try { patterns: None },
        ),
    ];
    for (event, git_ref, expected) in cases {
        assert_eq!(ctx(event, git_ref, "commit").run_type().unwrap(), expected);
    }
    let err = ctx("push", "refs/heads/feature", "x")
        .run_type()
        .unwrap_err();
    assert_eq!(
        err,
        CitoolError::UnknownRunType {
            event: "push".into(),
            git_ref: "refs/heads/feature".into()
        }
    );
    assert!(err.help().contains("refs/heads/auto"));
    // try-perf never takes patterns.
    assert_eq!(
        ctx("push", "refs/heads/try-perf", "try-job: dist-a")
            .run_type()
            .unwrap(),
        RunType::Try { patterns: None }
    );
}

#[test]
fn missing_variables_are_named() {
    for (name, mut c) in [
        ("GITHUB_EVENT_NAME", ctx("push", "refs/heads/auto", "m")),
        ("GITHUB_REF", ctx("push", "refs/heads/auto", "m")),
        ("COMMIT_MESSAGE", ctx("push", "refs/heads/auto", "m")),
    ] {
        match name {
            "GITHUB_EVENT_NAME" => c.event_name = None,
            "GITHUB_REF" => c.git_ref = None,
            _ => c.commit_message = None,
        }
        let err = c.run_type().unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
        assert!(err.help().contains(name), "{}", err.help());
    }
    // A pull request does not need a commit message.
    let mut pr = ctx("pull_request", "refs/pull/1/merge", "m");
    pr.commit_message = None;
    assert_eq!(pr.run_type().unwrap(), RunType::PullRequest);

    let mut no_id = ctx("push", "refs/heads/auto", "m");
    no_id.run_id = None;
    let err = matrix(&no_id, "nightly").unwrap_err();
    assert!(
        matches!(
            err,
            CitoolError::MissingEnvVar {
                name: "GITHUB_RUN_ID",
                ..
            }
        ),
        "{err}"
    );
    let mut no_attempt = ctx("push", "refs/heads/auto", "m");
    no_attempt.run_attempt = None;
    let err = matrix(&no_attempt, "nightly").unwrap_err();
    assert!(err.to_string().contains("GITHUB_RUN_ATTEMPT"), "{err}");
    // Master computes nothing and needs neither.
    let mut master = ctx("push", "refs/heads/master", "m");
    master.run_id = None;
    master.run_attempt = None;
    assert!(matrix(&master, "nightly").unwrap().jobs.is_empty());
}

#[test]
fn try_job_lines() {
    let message = "Title\n\ntry-job: dist-a\n  try-job: `test-*`  \ntry-job:dist-b\nTry-job: x\nnot try-job: y\ntry-job: ``dist-*``\n";
    assert_eq!(
        matrix::try_job_patterns(message),
        ["dist-a", "test-*", "dist-*"]
    );
}

#[test]
fn default_try_runs_try_jobs_with_dist_try_build() {
    let m = try_with("just a commit").unwrap();
    assert_eq!(names(&m), ["dist-x86_64-linux"]);
    let env = &m.jobs[0].env;
    assert_eq!(env["DIST_TRY_BUILD"], EnvValue::Int(1));
    assert_eq!(env["DEPLOY_BUCKET"], EnvValue::Str("bucket".into()));
    assert_eq!(m.jobs[0].full_name, "try - dist-x86_64-linux");
}

#[test]
fn custom_try_matches_auto_then_optional_in_pattern_order() {
    let m = try_with("try-job: dist-opt\ntry-job: dist-*\ntry-job: test-a").unwrap();
    assert_eq!(names(&m), ["dist-opt", "dist-a", "dist-b", "test-a"]);
    // test-a is in auto and optional: the auto one wins.
    assert!(m.jobs[3].os.starts_with("codebuild-"));
    // No DIST_TRY_BUILD for custom try jobs; the try env is the base.
    assert!(!m.jobs[1].env.contains_key("DIST_TRY_BUILD"));
    assert_eq!(m.jobs[1].full_name, "try - dist-a");
    // Optional jobs run only when asked for.
    let auto = matrix(&ctx("push", "refs/heads/auto", "m"), "nightly").unwrap();
    assert!(!names(&auto).contains(&"dist-opt"));
}

#[test]
fn unmatched_patterns_fail_the_run() {
    let err = try_with("try-job: dist-a\ntry-job: nope\ntry-job: also-*").unwrap_err();
    assert_eq!(
        err,
        CitoolError::UnmatchedPatterns {
            patterns: vec!["nope".into(), "also-*".into()]
        }
    );
    assert_eq!(
        err.to_string(),
        "try-job pattern(s) `nope`, `also-*` did not match any auto or optional job"
    );
    let err = try_with("try-job: [").unwrap_err();
    assert!(matches!(err, CitoolError::InvalidPattern { .. }), "{err}");
}

#[test]
fn more_than_twenty_expanded_jobs_fail() {
    let mut text =
        String::from("envs: {pr: {}, try: {}, auto: {}}\npr: []\ntry: []\noptional: []\nauto:\n");
    for i in 0..=MAX_TRY_JOBS {
        text.push_str(&format!("  - {{name: job-{i:02}, os: x, env: {{}}}}\n"));
    }
    let db = JobsFile::load(&text, "jobs.yml").unwrap();
    let run = |msg: &str| {
        let c = ctx("push", "refs/heads/try", msg);
        matrix::calculate(&db, c.run_type().unwrap(), &c, "nightly")
    };
    let err = run("try-job: job-*").unwrap_err();
    assert_eq!(
        err,
        CitoolError::TooManyTryJobs {
            count: 21,
            patterns: 1,
            max: 20
        }
    );
    // Exactly twenty is allowed, and jobs matched twice count once.
    let m = run("try-job: job-0*\ntry-job: job-1*\ntry-job: job-0*").unwrap();
    assert_eq!(m.jobs.len(), 20);
}

#[test]
fn only_on_channel() {
    let nightly = matrix(&ctx("push", "refs/heads/auto", "m"), "nightly").unwrap();
    assert!(!names(&nightly).contains(&"beta-only"));
    let beta = matrix(&ctx("push", "refs/heads/auto", "m"), "beta").unwrap();
    assert!(names(&beta).contains(&"beta-only"));
}

#[test]
fn empty_matrix_fails_except_master() {
    let text = "envs: {pr: {}, try: {}, auto: {}}\npr: []\ntry: []\noptional: []\nauto:\n  - {name: a, os: x, env: {}, only_on_channel: beta}\n";
    let c = ctx("push", "refs/heads/auto", "m");
    let err = calculate_job_matrix(text, "jobs.yml", &c, "nightly").unwrap_err();
    assert!(
        matches!(
            err,
            CitoolError::EmptyMatrix {
                run_type: "auto",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.help().contains("nightly"));
    let c = ctx("pull_request", "refs/pull/1/merge", "m");
    assert!(calculate_job_matrix(text, "jobs.yml", &c, "nightly").is_err());
    let c = ctx("push", "refs/heads/master", "m");
    assert_eq!(
        calculate_job_matrix(text, "jobs.yml", &c, "nightly").unwrap(),
        "jobs=[]\nrun_type=master\n"
    );
}

#[test]
fn github_variables_substituted_in_os() {
    let m = matrix(&ctx("push", "refs/heads/auto", "m"), "nightly").unwrap();
    let job = m.jobs.iter().find(|j| j.name == "test-a").unwrap();
    assert_eq!(job.os, "codebuild-ubuntu-22-8c-123-1");
    assert_eq!(job.codebuild, Some(true));
}

#[test]
fn rendered_env_is_sorted_and_keeps_types() {
    let m = try_with("try-job: dist-b").unwrap();
    assert_eq!(
        m.render(),
        "jobs=[{\"name\":\"dist-b\",\"full_name\":\"try - dist-b\",\"os\":\"ubuntu-24.04\",\"env\":{\"DEPLOY_BUCKET\":\"bucket\",\"MACOSX_DEPLOYMENT_TARGET\":11.0,\"READ_ONLY_SRC\":\"0\",\"TOOLSTATE_PUBLISH\":0}}]\nrun_type=try\n"
    );
}

#[test]
fn pr_matrix_uses_pr_env_and_keeps_continue_on_error() {
    let m = matrix(&ctx("pull_request", "refs/pull/1/merge", "m"), "nightly").unwrap();
    assert_eq!(
        m.render(),
        "jobs=[{\"name\":\"tidy\",\"full_name\":\"PR - tidy\",\"os\":\"ubuntu-24.04\",\"env\":{\"PR_CI_JOB\":1},\"continue_on_error\":true}]\nrun_type=pr\n"
    );
    // ...and its auto twin fails fast.
    let auto = matrix(&ctx("push", "refs/heads/auto", "m"), "nightly").unwrap();
    let tidy = auto.jobs.iter().find(|j| j.name == "tidy").unwrap();
    assert_eq!(tidy.continue_on_error, Some(false));
    assert_eq!(tidy.full_name, "auto - tidy");
}

#[test]
fn bad_jobs_file_fails_before_any_output() {
    let c = ctx("push", "refs/heads/auto", "m");
    type Check = fn(&CitoolError) -> bool;
    let cases: [(&str, Check); 4] = [
        ("envs: [\n", |e| matches!(e, CitoolError::Yaml { .. })),
        (
            "a: *nope\n",
            |e| matches!(e, CitoolError::UnknownAnchor { name, .. } if name == "nope"),
        ),
        ("a: &x\n  <<: *x\n", |e| {
            matches!(e, CitoolError::CyclicAlias { .. })
        }),
        ("envs: {pr: {}, try: {}, auto: {}}\n", |e| {
            matches!(e, CitoolError::MissingKey { key: "pr", .. })
        }),
    ];
    for (text, check) in cases {
        let err = calculate_job_matrix(text, "ci/jobs.yml", &c, "nightly").unwrap_err();
        assert!(check(&err), "{text:?}: {err:?}");
        assert!(err.to_string().starts_with("ci/jobs.yml:"), "{err}");
        assert!(!err.help().is_empty());
    }
}

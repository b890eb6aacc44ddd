use super::*;

fn new_run(token: &str, jobs: &[&str]) -> NewRun {
    NewRun {
        project: "example".into(),
        stage: Stage::Spark,
        commit: "a".repeat(40),
        rev: "HEAD".into(),
        source: "/src".into(),
        token: token.into(),
        started_at: Timestamp(1_000),
        jobs: jobs
            .iter()
            .map(|name| NewJobRun {
                job: (*name).into(),
                gate: Gate::Required,
                argv: vec!["make".into(), name.to_string()],
            })
            .collect(),
        purpose: "stage".into(),
        pr: None,
    }
}

fn passed(at: i64) -> JobFinish {
    JobFinish {
        status: JobStatus::Passed,
        exit_code: Some(0),
        signal: None,
        reason: None,
        finished_at: Timestamp(at),
        tests: Some(TestCounts {
            total: 3,
            failed: 1,
            skipped: 0,
        }),
        test_failures: vec![TestFailure {
            name: "chain::link".into(),
            message: Some("boom".into()),
        }],
        artifacts: vec![ArtifactRecord {
            path: "dist/x.tar.gz".into(),
            stored_at: "/state/x".into(),
            size: 10,
            sha256: "ab".repeat(32),
        }],
    }
}

#[test]
fn a_run_round_trips_with_its_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (run, jobs) = store.begin_run(&new_run("t1", &["build", "unit"])).unwrap();
    store
        .job_started(jobs[0], Timestamp(1_100), "/logs/build")
        .unwrap();
    store.job_finished(jobs[0], &passed(1_600)).unwrap();
    store
        .job_finished(
            jobs[1],
            &JobFinish::without_running(JobStatus::Skipped, "needs build".into(), Timestamp(1_600)),
        )
        .unwrap();
    store
        .finish_run(run, RunStatus::Red, Timestamp(2_000))
        .unwrap();

    let detail = store.run(run).unwrap().unwrap();
    assert_eq!(detail.run.status, RunStatus::Red);
    assert_eq!(detail.run.duration_ms, Some(1_000));
    assert_eq!((detail.run.jobs_total, detail.run.jobs_passed), (2, 1));
    let build = &detail.jobs[0];
    assert_eq!(build.job, "build");
    assert_eq!(build.argv, ["make", "build"]);
    assert_eq!(build.duration_ms, Some(500));
    assert_eq!(build.tests.unwrap().failed, 1);
    assert_eq!(build.test_failures[0].name, "chain::link");
    assert_eq!(build.artifacts[0].size, 10);
    assert_eq!(detail.jobs[1].status, JobStatus::Skipped);
    assert_eq!(detail.jobs[1].reason.as_deref(), Some("needs build"));
    assert!(store.run(RunId(99)).unwrap().is_none());
}

#[test]
fn runs_are_listed_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    for token in ["a", "b", "c"] {
        store.begin_run(&new_run(token, &["x"])).unwrap();
    }
    let ids: Vec<i64> = store
        .runs(None, 2)
        .unwrap()
        .iter()
        .map(|r| r.id.0)
        .collect();
    assert_eq!(ids, [3, 2]);
    assert!(store.runs(Some("other"), 10).unwrap().is_empty());
}

#[test]
fn interrupted_runs_are_marked_once_with_their_unfinished_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let (run, jobs) = store.begin_run(&new_run("t", &["a", "b"])).unwrap();
    store.job_started(jobs[0], Timestamp(1_100), "/l").unwrap();
    store.job_finished(jobs[0], &passed(1_200)).unwrap();
    store.job_started(jobs[1], Timestamp(1_300), "/l").unwrap();
    assert_eq!(
        store.in_flight().unwrap(),
        [InFlightRun {
            id: run,
            token: "t".into()
        }]
    );
    assert!(store.mark_interrupted(run, Timestamp(5_000)).unwrap());
    assert!(!store.mark_interrupted(run, Timestamp(6_000)).unwrap());
    let detail = store.run(run).unwrap().unwrap();
    assert_eq!(detail.run.status, RunStatus::Interrupted);
    assert_eq!(detail.jobs[0].status, JobStatus::Passed);
    assert_eq!(detail.jobs[1].status, JobStatus::Interrupted);
    assert!(store.in_flight().unwrap().is_empty());
}

#[test]
fn reopening_keeps_data_and_a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(dir.path()).unwrap();
        store.begin_run(&new_run("keep", &["x"])).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.runs(None, 10).unwrap().len(), 1);
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    let err = Store::open(dir.path()).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
}

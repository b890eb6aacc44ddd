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
        peak_rss_kb: Some(1234),
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
    assert_eq!(build.peak_rss_kb, Some(1234));
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

mod queue_tables {
    use super::*;
    use crate::queue::{NewPr, NewPromotion, NewTriage};

    fn pr(store: &mut Store) -> i64 {
        store
            .insert_pr(&NewPr {
                project: "p".into(),
                title: "t".into(),
                head_ref: "feature".into(),
                head_sha: "h1".into(),
                target: "master".into(),
                priority: 0,
                rollup: "maybe".into(),
                at: Timestamp(1),
            })
            .unwrap()
    }

    fn promotion<'a>(pr: i64, merge: &'a str, landed_in: &'a str) -> NewPromotion<'a> {
        NewPromotion {
            project: "p",
            pr,
            head_sha: "h1",
            merge_commit: merge,
            staging_before: "s0",
            landed_in,
            at: Timestamp(5),
        }
    }

    #[test]
    fn eligibility_needs_spark_on_the_current_head_approval_and_the_label() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = pr(&mut store);
        let (run, _) = store.begin_run(&new_run("spark", &["unit"])).unwrap();
        store
            .pr_spark(id, "h1", run.0, "green", Timestamp(2))
            .unwrap();
        store.pr_approve(id, "alice", Timestamp(3)).unwrap();
        assert!(!store.pr(id).unwrap().unwrap().eligible("ready"));
        store.pr_label(id, "ready", true, Timestamp(4)).unwrap();
        assert!(store.pr(id).unwrap().unwrap().eligible("ready"));
        // A new head: approval gone, spark stale.
        store.pr_new_head(id, "h2", Timestamp(5)).unwrap();
        let record = store.pr(id).unwrap().unwrap();
        assert!(record.approved_by.is_none());
        assert!(!record.spark_green());
        assert!(!record.eligible("ready"));
    }

    #[test]
    fn promotions_go_pending_then_done_or_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let id = pr(&mut store);
        let kept = store.begin_promotion(&promotion(id, "m1", "c1")).unwrap();
        let dropped = store.begin_promotion(&promotion(id, "m2", "c2")).unwrap();
        assert_eq!(store.pending_promotions("p").unwrap().len(), 2);
        store.complete_promotion(kept, Timestamp(6)).unwrap();
        store.abandon_promotion(dropped).unwrap();
        let all = store.promotions("p").unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].state, "done");
        assert_eq!(store.pr(id).unwrap().unwrap().state, "merged");
        // A done promotion cannot be abandoned.
        store.abandon_promotion(kept).unwrap();
        assert_eq!(store.promotions("p").unwrap().len(), 1);
        store.mark_reverted(kept, "r1", Timestamp(7)).unwrap();
        assert_eq!(store.pr(id).unwrap().unwrap().state, "reverted");
    }

    #[test]
    fn snapshots_list_the_promotions_that_landed_with_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a = pr(&mut store);
        let b = pr(&mut store);
        for (pr, merge) in [(a, "m1"), (b, "c1")] {
            let id = store.begin_promotion(&promotion(pr, merge, "c1")).unwrap();
            store.complete_promotion(id, Timestamp(6)).unwrap();
        }
        let (run, _) = store.begin_run(&new_run("forge", &["check"])).unwrap();
        let first = store
            .upsert_snapshot("p", "c1", "pending", None, None, Timestamp(6))
            .unwrap();
        let again = store
            .upsert_snapshot("p", "c1", "green", Some(run.0), Some("gated"), Timestamp(7))
            .unwrap();
        assert_eq!(first, again, "one snapshot per commit");
        let snapshot = store.snapshot_by_commit("p", "c1").unwrap().unwrap();
        assert_eq!(snapshot.status, "green");
        assert_eq!(snapshot.forge_run, Some(run.0));
        let prs: Vec<i64> = snapshot.promotions.iter().map(|p| p.pr).collect();
        assert_eq!(prs, [a, b]);
        assert!(store.snapshots("other").unwrap().is_empty());
    }

    #[test]
    fn flakes_are_counted_per_job_and_overrides_are_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        for job in ["check", "check", "other"] {
            store
                .add_triage(&NewTriage {
                    project: "p".into(),
                    kind: "flake".into(),
                    snapshot: None,
                    prs: vec![],
                    job: Some(job.into()),
                    runs: vec![1, 2],
                    summary: "s".into(),
                    at: Timestamp(1),
                })
                .unwrap();
        }
        assert_eq!(store.flake_count("p", "check").unwrap(), 2);
        assert_eq!(store.flake_count("q", "check").unwrap(), 0);
        store
            .override_gate("p", "check", "observe", "too flaky", Timestamp(2))
            .unwrap();
        assert_eq!(store.gate_overrides("p").unwrap()["check"], "observe");
        let records = store.triage("p").unwrap();
        assert_eq!(records[0].kind, "demotion");
        assert_eq!(records[1].runs, [1, 2]);
    }
}

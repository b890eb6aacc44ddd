//! Ironworks persistence.
//!
//! One SQLite database (`state.db`, WAL mode) in the state directory. Every
//! state change is one transaction, so a killed Ironworks leaves either the
//! old or the new record, never half of one. Runs that were in flight when
//! their owner died stay `running` until [`Store::mark_interrupted`] is
//! called by the recovery the CLI does at start-up.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ironworks_core::adapter::Gate;
use ironworks_core::gate::{JobStatus, RunStatus};
use ironworks_core::record::{
    ArtifactRecord, JobRunId, JobRunRecord, RunDetail, RunId, RunRecord, TestCounts, TestFailure,
    Timestamp,
};
use ironworks_core::stage::Stage;
use rusqlite::{Connection, OptionalExtension, Row, params};

/// The database file inside the state directory.
pub const DATABASE_FILE: &str = "state.db";

/// Schema migrations, applied in order; `PRAGMA user_version` counts how many
/// have been applied. Append only: never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_runs.sql"),
    include_str!("migrations/0002_queue.sql"),
    include_str!("migrations/0003_toolstate.sql"),
    include_str!("migrations/0004_harden.sql"),
    include_str!("migrations/0005_log_index.sql"),
    include_str!("migrations/0006_fuzz_findings.sql"),
    include_str!("migrations/0007_peak_memory.sql"),
    include_str!("migrations/0008_releases.sql"),
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the state database {path}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the state database {path} has schema version {found}, newer than this ironworks knows ({known}); use a newer ironworks"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("state database error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("state database holds a value this ironworks cannot read: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A run about to start, with the jobs it will run.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub project: String,
    pub stage: Stage,
    pub commit: String,
    pub rev: String,
    pub source: String,
    pub token: String,
    pub started_at: Timestamp,
    pub jobs: Vec<NewJobRun>,
    /// What the run is for: `stage`, `spark-pr`, `forge-snapshot`,
    /// `gated-build`, `bisect`, `try`, `rerun`.
    pub purpose: String,
    /// The PR the run is about, if any.
    pub pr: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewJobRun {
    pub job: String,
    pub gate: Gate,
    pub argv: Vec<String>,
}

/// How a job ended.
#[derive(Debug, Clone)]
pub struct JobFinish {
    pub status: JobStatus,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub reason: Option<String>,
    pub finished_at: Timestamp,
    /// Peak resident memory of the job's process group, KiB, when sampled.
    pub peak_rss_kb: Option<u64>,
    pub tests: Option<TestCounts>,
    pub test_failures: Vec<TestFailure>,
    pub artifacts: Vec<ArtifactRecord>,
}

impl JobFinish {
    /// A job that ends without having run (skipped, cancelled).
    pub fn without_running(status: JobStatus, reason: String, at: Timestamp) -> Self {
        JobFinish {
            status,
            exit_code: None,
            signal: None,
            reason: Some(reason),
            finished_at: at,
            peak_rss_kb: None,
            tests: None,
            test_failures: Vec::new(),
            artifacts: Vec::new(),
        }
    }
}

/// A run that was `running` in the store, for recovery to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightRun {
    pub id: RunId,
    pub token: String,
}

/// The store of one state directory.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Open (creating if needed) the database in `state_dir` and migrate it.
    pub fn open(state_dir: &Path) -> Result<Store> {
        let path = state_dir.join(DATABASE_FILE);
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open(&path).map_err(open_err)?;
        conn.busy_timeout(Duration::from_secs(10))
            .map_err(open_err)?;
        // WAL: readers never block the writer, and concurrent `ironworks`
        // processes on one state directory take turns writing. NORMAL
        // synchronous is durable against a crash of Ironworks; only a power
        // loss can lose the last transactions.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        let mut store = Store { conn };
        store.migrate(&path)?;
        Ok(store)
    }

    fn migrate(&mut self, path: &Path) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: path.to_owned(),
                found: version,
                known,
            });
        }
        for migration in &MIGRATIONS[version as usize..] {
            tx.execute_batch(migration)?;
        }
        tx.pragma_update(None, "user_version", known)?;
        tx.commit()?;
        Ok(())
    }

    /// Record a new run and all its jobs as pending, in one transaction.
    pub fn begin_run(&mut self, run: &NewRun) -> Result<(RunId, Vec<JobRunId>)> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO runs (project, stage, commit_id, rev, source, status, token, started_at, purpose, pr)
             VALUES (?1, ?2, ?3, ?4, ?5, 'running', ?6, ?7, ?8, ?9)",
            params![
                run.project,
                run.stage.as_str(),
                run.commit,
                run.rev,
                run.source,
                run.token,
                run.started_at.0,
                run.purpose,
                run.pr
            ],
        )?;
        let run_id = RunId(tx.last_insert_rowid());
        let mut ids = Vec::with_capacity(run.jobs.len());
        {
            let mut insert = tx.prepare(
                "INSERT INTO job_runs (run_id, position, job, gate, argv, status)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
            )?;
            for (position, job) in run.jobs.iter().enumerate() {
                let argv = serde_json::to_string(&job.argv).expect("strings serialize");
                insert.execute(params![
                    run_id.0,
                    position as i64,
                    job.job,
                    job.gate.as_str(),
                    argv
                ])?;
                ids.push(JobRunId(tx.last_insert_rowid()));
            }
        }
        tx.commit()?;
        Ok((run_id, ids))
    }

    pub fn job_started(&mut self, id: JobRunId, at: Timestamp, log_path: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE job_runs SET status = 'running', started_at = ?2, log_path = ?3 WHERE id = ?1",
            )?
            .execute(params![id.0, at.0, log_path])?;
        Ok(())
    }

    /// Record a job's end with its test results and artifacts, in one transaction.
    pub fn job_finished(&mut self, id: JobRunId, finish: &JobFinish) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.prepare_cached(
            "UPDATE job_runs SET status = ?2, exit_code = ?3, signal = ?4, reason = ?5,
                 finished_at = ?6, tests_total = ?7, tests_failed = ?8, tests_skipped = ?9,
                 peak_rss_kb = ?10
             WHERE id = ?1",
        )?
        .execute(params![
            id.0,
            finish.status.as_str(),
            finish.exit_code,
            finish.signal,
            finish.reason,
            finish.finished_at.0,
            finish.tests.map(|t| t.total),
            finish.tests.map(|t| t.failed),
            finish.tests.map(|t| t.skipped),
            finish.peak_rss_kb.map(|kb| kb as i64),
        ])?;
        for failure in &finish.test_failures {
            tx.execute(
                "INSERT INTO test_failures (job_run_id, name, message) VALUES (?1, ?2, ?3)",
                params![id.0, failure.name, failure.message],
            )?;
        }
        for artifact in &finish.artifacts {
            tx.execute(
                "INSERT INTO artifacts (job_run_id, path, stored_at, size, sha256)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.0,
                    artifact.path,
                    artifact.stored_at,
                    artifact.size as i64,
                    artifact.sha256
                ],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn finish_run(&mut self, id: RunId, status: RunStatus, at: Timestamp) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET status = ?2, finished_at = ?3 WHERE id = ?1",
            params![id.0, status.as_str(), at.0],
        )?;
        Ok(())
    }

    /// Runs recorded as in flight. Some may belong to a live process; the
    /// caller decides which are orphans.
    pub fn in_flight(&self) -> Result<Vec<InFlightRun>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, token FROM runs WHERE status = 'running' ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(InFlightRun {
                id: RunId(r.get(0)?),
                token: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Mark a run whose owner died, and its unfinished jobs, `interrupted`,
    /// in one transaction. A run that is no longer `running` is left alone.
    pub fn mark_interrupted(&mut self, id: RunId, at: Timestamp) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let changed = tx.execute(
            "UPDATE runs SET status = 'interrupted', finished_at = ?2 WHERE id = ?1 AND status = 'running'",
            params![id.0, at.0],
        )?;
        if changed == 1 {
            tx.execute(
                "UPDATE job_runs SET status = 'interrupted', finished_at = ?2,
                     reason = 'ironworks stopped while this job was in flight'
                 WHERE run_id = ?1 AND status IN ('pending', 'running')",
                params![id.0, at.0],
            )?;
        }
        tx.commit()?;
        Ok(changed == 1)
    }

    /// The newest runs first, at most `limit`, optionally of one project.
    pub fn runs(&self, project: Option<&str>, limit: usize) -> Result<Vec<RunRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "{RUN_SELECT} WHERE (?1 IS NULL OR r.project = ?1) ORDER BY r.id DESC LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![project, limit as i64], run_from_row)?;
        rows.map(|r| r?).collect()
    }

    /// One run with its jobs in plan order.
    pub fn run(&self, id: RunId) -> Result<Option<RunDetail>> {
        let run = self
            .conn
            .query_row(
                &format!("{RUN_SELECT} WHERE r.id = ?1"),
                [id.0],
                run_from_row,
            )
            .optional()?
            .transpose()?;
        let Some(run) = run else { return Ok(None) };
        let mut stmt = self.conn.prepare(
            "SELECT id, job, gate, argv, status, exit_code, signal, reason, started_at,
                    finished_at, log_path, tests_total, tests_failed, tests_skipped, peak_rss_kb
             FROM job_runs WHERE run_id = ?1 ORDER BY position",
        )?;
        let mut jobs = stmt
            .query_map([id.0], job_from_row)?
            .map(|r| r?)
            .collect::<Result<Vec<_>>>()?;
        for job in &mut jobs {
            job.test_failures = self.test_failures(job.id)?;
            job.artifacts = self.artifacts(job.id)?;
        }
        Ok(Some(RunDetail { run, jobs }))
    }

    fn test_failures(&self, id: JobRunId) -> Result<Vec<TestFailure>> {
        let mut stmt = self.conn.prepare(
            "SELECT name, message FROM test_failures WHERE job_run_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id.0], |r| {
            Ok(TestFailure {
                name: r.get(0)?,
                message: r.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn artifacts(&self, id: JobRunId) -> Result<Vec<ArtifactRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT path, stored_at, size, sha256 FROM artifacts WHERE job_run_id = ?1 ORDER BY rowid",
        )?;
        let rows = stmt.query_map([id.0], |r| {
            Ok(ArtifactRecord {
                path: r.get(0)?,
                stored_at: r.get(1)?,
                size: r.get::<_, i64>(2)? as u64,
                sha256: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

const RUN_SELECT: &str = "SELECT r.id, r.project, r.stage, r.commit_id, r.rev, r.source, r.status,
        r.started_at, r.finished_at,
        (SELECT COUNT(*) FROM job_runs j WHERE j.run_id = r.id),
        (SELECT COUNT(*) FROM job_runs j WHERE j.run_id = r.id AND j.status = 'passed'),
        (SELECT COUNT(*) FROM job_runs j WHERE j.run_id = r.id AND j.status IN ('failed', 'timed_out')),
        r.purpose, r.pr
    FROM runs r";

fn parse<T: std::str::FromStr>(text: String) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    text.parse::<T>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn run_from_row(r: &Row<'_>) -> rusqlite::Result<Result<RunRecord>> {
    let started_at = Timestamp(r.get(7)?);
    let finished_at: Option<i64> = r.get(8)?;
    let (stage, status): (String, String) = (r.get(2)?, r.get(6)?);
    let record = (|| {
        Ok(RunRecord {
            id: RunId(r.get(0)?),
            project: r.get(1)?,
            stage: parse::<Stage>(stage)?,
            commit: r.get(3)?,
            rev: r.get(4)?,
            source: r.get(5)?,
            status: parse::<RunStatus>(status)?,
            started_at,
            finished_at: finished_at.map(Timestamp),
            duration_ms: finished_at.map(|f| f - started_at.0),
            jobs_total: r.get(9)?,
            jobs_passed: r.get(10)?,
            jobs_failed: r.get(11)?,
            purpose: r.get(12)?,
            pr: r.get(13)?,
        })
    })();
    Ok(record)
}

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Result<JobRunRecord>> {
    let started_at: Option<i64> = r.get(8)?;
    let finished_at: Option<i64> = r.get(9)?;
    let tests_total: Option<i64> = r.get(11)?;
    let (gate, argv, status): (String, String, String) = (r.get(2)?, r.get(3)?, r.get(4)?);
    let record = (|| {
        Ok(JobRunRecord {
            id: JobRunId(r.get(0)?),
            job: r.get(1)?,
            gate: parse::<Gate>(gate)?,
            status: parse::<JobStatus>(status)?,
            argv: serde_json::from_str(&argv).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            exit_code: r.get(5)?,
            signal: r.get(6)?,
            reason: r.get(7)?,
            started_at: started_at.map(Timestamp),
            finished_at: finished_at.map(Timestamp),
            duration_ms: started_at.zip(finished_at).map(|(s, f)| f - s),
            log: r.get(10)?,
            tests: match tests_total {
                Some(total) => Some(TestCounts {
                    total,
                    failed: r.get(12)?,
                    skipped: r.get(13)?,
                }),
                None => None,
            },
            test_failures: Vec::new(),
            artifacts: Vec::new(),
            peak_rss_kb: r.get::<_, Option<i64>>(14)?.map(|kb| kb as u64),
        })
    })();
    Ok(record)
}

pub mod harden;
pub mod logs;
pub mod queue;
pub mod release;
pub mod toolstate;

#[cfg(test)]
mod tests;

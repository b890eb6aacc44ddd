//! Harden runs: a job's verdict on a forge-green snapshot.

use ironworks_core::record::{SnapshotRecord, Timestamp};
use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use crate::{Result, Store};

/// One harden run of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HardenRunRecord {
    pub job: String,
    pub snapshot: i64,
    pub commit: String,
    pub run: i64,
    /// green | red
    pub verdict: String,
    pub report: String,
    pub started_at: Timestamp,
}

const SELECT: &str =
    "SELECT h.job, h.snapshot, s.commit_id, h.run_id, h.verdict, h.report, h.started_at
    FROM harden_runs h JOIN snapshots s ON s.id = h.snapshot";

fn from_row(r: &Row<'_>) -> rusqlite::Result<HardenRunRecord> {
    Ok(HardenRunRecord {
        job: r.get(0)?,
        snapshot: r.get(1)?,
        commit: r.get(2)?,
        run: r.get(3)?,
        verdict: r.get(4)?,
        report: r.get(5)?,
        started_at: Timestamp(r.get(6)?),
    })
}

impl Store {
    /// The newest forge-green snapshot: the only thing harden ever runs on.
    pub fn newest_green_snapshot(&self, project: &str) -> Result<Option<SnapshotRecord>> {
        Ok(self
            .snapshots(project)?
            .into_iter()
            .find(|s| s.status == "green"))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record_harden_run(
        &mut self,
        project: &str,
        job: &str,
        snapshot: i64,
        run: i64,
        verdict: &str,
        report: &str,
        started_at: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO harden_runs (project, job, snapshot, run_id, verdict, report, started_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![project, job, snapshot, run, verdict, report, started_at.0],
        )?;
        Ok(())
    }

    /// A job's latest harden run.
    pub fn last_harden_run(&self, project: &str, job: &str) -> Result<Option<HardenRunRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!("{SELECT} WHERE h.project = ?1 AND h.job = ?2 ORDER BY h.id DESC LIMIT 1"),
                params![project, job],
                from_row,
            )
            .optional()?)
    }

    /// A job's latest green harden run.
    pub fn last_green_harden_run(
        &self,
        project: &str,
        job: &str,
    ) -> Result<Option<HardenRunRecord>> {
        Ok(self
            .conn
            .query_row(
                &format!(
                    "{SELECT} WHERE h.project = ?1 AND h.job = ?2 AND h.verdict = 'green' ORDER BY h.id DESC LIMIT 1"
                ),
                params![project, job],
                from_row,
            )
            .optional()?)
    }
}

/// A unique fuzz crash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuzzFinding {
    pub job: String,
    pub target: String,
    pub signature: String,
    pub crash_type: String,
    pub reproducer: String,
    pub first_run: i64,
    pub last_run: i64,
    pub seen: i64,
}

impl Store {
    /// Record a crash; returns whether its signature is new for this job.
    /// A known signature only counts another sighting.
    #[allow(clippy::too_many_arguments)]
    pub fn record_fuzz_crash(
        &mut self,
        project: &str,
        job: &str,
        target: &str,
        signature: &str,
        crash_type: &str,
        reproducer: &str,
        run: i64,
        at: Timestamp,
    ) -> Result<bool> {
        let tx = self.conn.transaction()?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO fuzz_findings
                 (project, job, target, signature, crash_type, reproducer, first_run, last_run, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            params![project, job, target, signature, crash_type, reproducer, run, at.0],
        )?;
        if inserted == 0 {
            tx.execute(
                "UPDATE fuzz_findings SET seen = seen + 1, last_run = ?4
                 WHERE project = ?1 AND job = ?2 AND signature = ?3",
                params![project, job, signature, run],
            )?;
        }
        tx.commit()?;
        Ok(inserted == 1)
    }

    pub fn fuzz_findings(&self, project: &str) -> Result<Vec<FuzzFinding>> {
        let mut stmt = self.conn.prepare(
            "SELECT job, target, signature, crash_type, reproducer, first_run, last_run, seen
             FROM fuzz_findings WHERE project = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([project], |r| {
            Ok(FuzzFinding {
                job: r.get(0)?,
                target: r.get(1)?,
                signature: r.get(2)?,
                crash_type: r.get(3)?,
                reproducer: r.get(4)?,
                first_run: r.get(5)?,
                last_run: r.get(6)?,
                seen: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

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

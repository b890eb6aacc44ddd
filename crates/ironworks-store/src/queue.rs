//! Queue state: PRs, snapshots, promotions, triage records, gate overrides.
//! Every function that changes state is one transaction.

use std::collections::BTreeMap;

use ironworks_core::record::{PrRecord, PromotionRecord, SnapshotRecord, Timestamp, TriageRecord};
use rusqlite::{OptionalExtension, Row, params};

use crate::{Result, Store, StoreError};

/// A PR to record.
#[derive(Debug, Clone)]
pub struct NewPr {
    pub project: String,
    pub title: String,
    pub head_ref: String,
    pub head_sha: String,
    pub target: String,
    pub priority: i64,
    pub rollup: String,
    pub at: Timestamp,
}

/// A promotion about to happen.
#[derive(Debug, Clone)]
pub struct NewPromotion<'a> {
    pub project: &'a str,
    pub pr: i64,
    pub head_sha: &'a str,
    /// The merge commit that promotes the PR.
    pub merge_commit: &'a str,
    pub staging_before: &'a str,
    /// The staging commit it lands with.
    pub landed_in: &'a str,
    pub at: Timestamp,
}

/// A triage record to add.
#[derive(Debug, Clone)]
pub struct NewTriage {
    pub project: String,
    pub kind: String,
    pub snapshot: Option<i64>,
    pub prs: Vec<i64>,
    pub job: Option<String>,
    pub runs: Vec<i64>,
    pub summary: String,
    pub at: Timestamp,
}

const PR_SELECT: &str = "SELECT id, project, title, head_ref, head_sha, target, priority, rollup, state,
    state_reason, approved_by, approved_at, spark_run, spark_sha, spark_status, opened_at, updated_at FROM prs";

fn pr_from_row(r: &Row<'_>) -> rusqlite::Result<PrRecord> {
    Ok(PrRecord {
        id: r.get(0)?,
        project: r.get(1)?,
        title: r.get(2)?,
        head_ref: r.get(3)?,
        head_sha: r.get(4)?,
        target: r.get(5)?,
        priority: r.get(6)?,
        rollup: r.get(7)?,
        state: r.get(8)?,
        state_reason: r.get(9)?,
        approved_by: r.get(10)?,
        approved_at: r.get::<_, Option<i64>>(11)?.map(Timestamp),
        labels: Vec::new(),
        spark_run: r.get(12)?,
        spark_sha: r.get(13)?,
        spark_status: r.get(14)?,
        opened_at: Timestamp(r.get(15)?),
        updated_at: Timestamp(r.get(16)?),
    })
}

fn promotion_from_row(r: &Row<'_>) -> rusqlite::Result<PromotionRecord> {
    Ok(PromotionRecord {
        id: r.get(0)?,
        pr: r.get(1)?,
        head_sha: r.get(2)?,
        merge_commit: r.get(3)?,
        staging_before: r.get(4)?,
        landed_in: r.get(5)?,
        state: r.get(6)?,
        promoted_at: Timestamp(r.get(7)?),
        revert_commit: r.get(8)?,
    })
}

const PROMOTION_SELECT: &str = "SELECT id, pr, head_sha, merge_commit, staging_before, landed_in, state, promoted_at, revert_commit FROM promotions";

fn json_ids(text: String) -> Result<Vec<i64>> {
    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    pub fn insert_pr(&mut self, pr: &NewPr) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO prs (project, title, head_ref, head_sha, target, priority, rollup, opened_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            params![pr.project, pr.title, pr.head_ref, pr.head_sha, pr.target, pr.priority, pr.rollup, pr.at.0],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn pr(&self, id: i64) -> Result<Option<PrRecord>> {
        let pr = self
            .conn
            .query_row(&format!("{PR_SELECT} WHERE id = ?1"), [id], pr_from_row)
            .optional()?;
        match pr {
            Some(mut pr) => {
                pr.labels = self.labels(pr.id)?;
                Ok(Some(pr))
            }
            None => Ok(None),
        }
    }

    fn labels(&self, pr: i64) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT label FROM pr_labels WHERE pr = ?1 ORDER BY label")?;
        let rows = stmt.query_map([pr], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// PRs of a project, oldest first.
    pub fn prs(&self, project: &str) -> Result<Vec<PrRecord>> {
        let mut stmt = self
            .conn
            .prepare(&format!("{PR_SELECT} WHERE project = ?1 ORDER BY id"))?;
        let mut prs = stmt
            .query_map([project], pr_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        for pr in &mut prs {
            pr.labels = self.labels(pr.id)?;
        }
        Ok(prs)
    }

    /// A new head was pushed: approval and spark no longer apply.
    pub fn pr_new_head(&mut self, id: i64, head_sha: &str, at: Timestamp) -> Result<()> {
        self.conn.execute(
            "UPDATE prs SET head_sha = ?2, approved_by = NULL, approved_at = NULL,
                 state = CASE WHEN state = 'conflict' THEN 'open' ELSE state END,
                 state_reason = NULL, updated_at = ?3 WHERE id = ?1",
            params![id, head_sha, at.0],
        )?;
        Ok(())
    }

    pub fn pr_approve(&mut self, id: i64, by: &str, at: Timestamp) -> Result<()> {
        self.conn.execute(
            "UPDATE prs SET approved_by = ?2, approved_at = ?3, updated_at = ?3 WHERE id = ?1",
            params![id, by, at.0],
        )?;
        Ok(())
    }

    pub fn pr_unapprove(&mut self, id: i64, at: Timestamp) -> Result<()> {
        self.conn.execute(
            "UPDATE prs SET approved_by = NULL, approved_at = NULL, updated_at = ?2 WHERE id = ?1",
            params![id, at.0],
        )?;
        Ok(())
    }

    pub fn pr_label(&mut self, id: i64, label: &str, add: bool, at: Timestamp) -> Result<()> {
        let tx = self.conn.transaction()?;
        if add {
            tx.execute(
                "INSERT OR IGNORE INTO pr_labels (pr, label) VALUES (?1, ?2)",
                params![id, label],
            )?;
        } else {
            tx.execute(
                "DELETE FROM pr_labels WHERE pr = ?1 AND label = ?2",
                params![id, label],
            )?;
        }
        tx.execute(
            "UPDATE prs SET updated_at = ?2 WHERE id = ?1",
            params![id, at.0],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn pr_spark(
        &mut self,
        id: i64,
        sha: &str,
        run: i64,
        status: &str,
        at: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE prs SET spark_sha = ?2, spark_run = ?3, spark_status = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, sha, run, status, at.0],
        )?;
        Ok(())
    }

    pub fn pr_state(
        &mut self,
        id: i64,
        state: &str,
        reason: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "UPDATE prs SET state = ?2, state_reason = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, state, reason, at.0],
        )?;
        Ok(())
    }

    /// Record (or update) the verdict of a staging commit. Returns its id.
    pub fn upsert_snapshot(
        &mut self,
        project: &str,
        commit: &str,
        status: &str,
        forge_run: Option<i64>,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO snapshots (project, commit_id, status, forge_run, note, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (project, commit_id) DO UPDATE SET
                 status = excluded.status,
                 forge_run = COALESCE(excluded.forge_run, snapshots.forge_run),
                 note = COALESCE(excluded.note, snapshots.note)",
            params![project, commit, status, forge_run, note, at.0],
        )?;
        Ok(self.conn.query_row(
            "SELECT id FROM snapshots WHERE project = ?1 AND commit_id = ?2",
            params![project, commit],
            |r| r.get(0),
        )?)
    }

    pub fn snapshot_by_commit(
        &self,
        project: &str,
        commit: &str,
    ) -> Result<Option<SnapshotRecord>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT id FROM snapshots WHERE project = ?1 AND commit_id = ?2",
                params![project, commit],
                |r| r.get(0),
            )
            .optional()?;
        match id {
            Some(id) => Ok(self.snapshots(project)?.into_iter().find(|s| s.id == id)),
            None => Ok(None),
        }
    }

    /// Snapshots of a project, newest first, each with the promotions whose
    /// merge commit it is (post-merge) or that landed with it (gated).
    pub fn snapshots(&self, project: &str) -> Result<Vec<SnapshotRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, project, commit_id, status, forge_run, note, created_at
             FROM snapshots WHERE project = ?1 ORDER BY id DESC",
        )?;
        let mut snapshots = stmt
            .query_map([project], |r| {
                Ok(SnapshotRecord {
                    id: r.get(0)?,
                    project: r.get(1)?,
                    commit: r.get(2)?,
                    status: r.get(3)?,
                    forge_run: r.get(4)?,
                    note: r.get(5)?,
                    created_at: Timestamp(r.get(6)?),
                    promotions: Vec::new(),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let promotions = self.promotions(project)?;
        for snapshot in &mut snapshots {
            snapshot.promotions = promotions
                .iter()
                .filter(|p| p.landed_in == snapshot.commit)
                .cloned()
                .collect();
        }
        Ok(snapshots)
    }

    /// Promotions of a project in the order they happened.
    pub fn promotions(&self, project: &str) -> Result<Vec<PromotionRecord>> {
        let mut stmt = self.conn.prepare(&format!(
            "{PROMOTION_SELECT} WHERE project = ?1 ORDER BY id"
        ))?;
        Ok(stmt
            .query_map([project], promotion_from_row)?
            .collect::<Result<_, _>>()?)
    }

    /// Record a promotion about to happen (before the ref moves).
    pub fn begin_promotion(&mut self, promotion: &NewPromotion<'_>) -> Result<i64> {
        let p = promotion;
        self.conn.execute(
            "INSERT INTO promotions (project, pr, head_sha, merge_commit, staging_before, landed_in, state, promoted_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7)",
            params![p.project, p.pr, p.head_sha, p.merge_commit, p.staging_before, p.landed_in, p.at.0],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// The ref moved: the promotion happened, and its PR is merged.
    pub fn complete_promotion(&mut self, id: i64, at: Timestamp) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE promotions SET state = 'done' WHERE id = ?1", [id])?;
        tx.execute(
            "UPDATE prs SET state = 'merged', state_reason = NULL, updated_at = ?2
             WHERE id = (SELECT pr FROM promotions WHERE id = ?1)",
            params![id, at.0],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The ref never moved: forget the promotion.
    pub fn abandon_promotion(&mut self, id: i64) -> Result<()> {
        self.conn.execute(
            "DELETE FROM promotions WHERE id = ?1 AND state = 'pending'",
            [id],
        )?;
        Ok(())
    }

    pub fn pending_promotions(&self, project: &str) -> Result<Vec<PromotionRecord>> {
        Ok(self
            .promotions(project)?
            .into_iter()
            .filter(|p| p.state == "pending")
            .collect())
    }

    pub fn mark_reverted(
        &mut self,
        promotion: i64,
        revert_commit: &str,
        at: Timestamp,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE promotions SET state = 'reverted', revert_commit = ?2 WHERE id = ?1",
            params![promotion, revert_commit],
        )?;
        tx.execute(
            "UPDATE prs SET state = 'reverted', state_reason = ?2, updated_at = ?3
             WHERE id = (SELECT pr FROM promotions WHERE id = ?1)",
            params![promotion, format!("reverted by {revert_commit}"), at.0],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn add_triage(&mut self, record: &NewTriage) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO triage (project, kind, snapshot, prs, job, runs, summary, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                record.project,
                record.kind,
                record.snapshot,
                serde_json::to_string(&record.prs).expect("ids serialize"),
                record.job,
                serde_json::to_string(&record.runs).expect("ids serialize"),
                record.summary,
                record.at.0
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Triage records of a project, newest first.
    pub fn triage(&self, project: &str) -> Result<Vec<TriageRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, snapshot, prs, job, runs, summary, created_at
             FROM triage WHERE project = ?1 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map([project], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?;
        let mut records = Vec::new();
        for row in rows {
            let (id, kind, snapshot, prs, job, runs, summary, at) = row?;
            records.push(TriageRecord {
                id,
                kind,
                snapshot,
                prs: json_ids(prs)?,
                job,
                runs: json_ids(runs)?,
                summary,
                created_at: Timestamp(at),
            });
        }
        Ok(records)
    }

    /// How many flakes a job has on record.
    pub fn flake_count(&self, project: &str, job: &str) -> Result<u32> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM triage WHERE project = ?1 AND kind = 'flake' AND job = ?2",
            params![project, job],
            |r| r.get(0),
        )?)
    }

    /// Change a job's gate (with the reason), recorded as a `demotion`
    /// triage record in the same transaction.
    pub fn override_gate(
        &mut self,
        project: &str,
        job: &str,
        gate: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO job_overrides (project, job, gate, reason, at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (project, job) DO UPDATE SET gate = excluded.gate, reason = excluded.reason, at = excluded.at",
            params![project, job, gate, reason, at.0],
        )?;
        tx.execute(
            "INSERT INTO triage (project, kind, job, summary, created_at) VALUES (?1, 'demotion', ?2, ?3, ?4)",
            params![project, job, reason, at.0],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Gate overrides of a project: job → gate.
    pub fn gate_overrides(&self, project: &str) -> Result<BTreeMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT job, gate FROM job_overrides WHERE project = ?1")?;
        let rows = stmt.query_map([project], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

//! Releases: cut from forge-green snapshots, and the fixes landed on them.

use ironworks_core::record::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Result, Store};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseRecord {
    pub id: i64,
    pub version: String,
    pub branch: String,
    pub snapshot: i64,
    pub base_commit: String,
    pub cut_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReleaseFix {
    pub pr: i64,
    pub merge_commit: String,
    pub temper_run: i64,
    pub landed_at: Timestamp,
}

impl Store {
    pub fn insert_release(
        &mut self,
        project: &str,
        version: &str,
        branch: &str,
        snapshot: i64,
        base_commit: &str,
        at: Timestamp,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO releases (project, version, branch, snapshot, base_commit, cut_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![project, version, branch, snapshot, base_commit, at.0],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn release(&self, project: &str, version: &str) -> Result<Option<ReleaseRecord>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id, version, branch, snapshot, base_commit, cut_at FROM releases
                 WHERE project = ?1 AND version = ?2",
                params![project, version],
                |r| {
                    Ok(ReleaseRecord {
                        id: r.get(0)?,
                        version: r.get(1)?,
                        branch: r.get(2)?,
                        snapshot: r.get(3)?,
                        base_commit: r.get(4)?,
                        cut_at: Timestamp(r.get(5)?),
                    })
                },
            )
            .optional()?)
    }

    /// Releases cut before this one, newest first.
    pub fn releases_before(&self, project: &str, id: i64) -> Result<Vec<ReleaseRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, version, branch, snapshot, base_commit, cut_at FROM releases
             WHERE project = ?1 AND id < ?2 ORDER BY id DESC",
        )?;
        let rows = stmt.query_map(params![project, id], |r| {
            Ok(ReleaseRecord {
                id: r.get(0)?,
                version: r.get(1)?,
                branch: r.get(2)?,
                snapshot: r.get(3)?,
                base_commit: r.get(4)?,
                cut_at: Timestamp(r.get(5)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn insert_release_fix(
        &mut self,
        project: &str,
        version: &str,
        pr: i64,
        merge_commit: &str,
        temper_run: i64,
        at: Timestamp,
    ) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO release_fixes (project, version, pr, merge_commit, temper_run, landed_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![project, version, pr, merge_commit, temper_run, at.0],
        )?;
        tx.execute(
            "UPDATE prs SET state = 'merged', state_reason = ?2, updated_at = ?3 WHERE id = ?1",
            params![
                pr,
                format!("landed on release {version} as {merge_commit}"),
                at.0
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn release_fixes(&self, project: &str, version: &str) -> Result<Vec<ReleaseFix>> {
        let mut stmt = self.conn.prepare(
            "SELECT pr, merge_commit, temper_run, landed_at FROM release_fixes
             WHERE project = ?1 AND version = ?2 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![project, version], |r| {
            Ok(ReleaseFix {
                pr: r.get(0)?,
                merge_commit: r.get(1)?,
                temper_run: r.get(2)?,
                landed_at: Timestamp(r.get(3)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

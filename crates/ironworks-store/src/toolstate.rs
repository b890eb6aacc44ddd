//! Toolstate history: a component's state per commit.

use ironworks_core::record::Timestamp;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::{Result, Store};

/// One recorded state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolstateRecord {
    pub component: String,
    pub job: String,
    pub commit: String,
    pub run: i64,
    pub state: String,
    pub change: Option<String>,
    pub at: Timestamp,
}

impl Store {
    /// The latest state of a component, if any.
    pub fn last_toolstate(&self, project: &str, component: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT state FROM toolstate WHERE project = ?1 AND component = ?2 ORDER BY id DESC LIMIT 1",
                params![project, component],
                |r| r.get(0),
            )
            .optional()?)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn record_toolstate(
        &mut self,
        project: &str,
        component: &str,
        job: &str,
        commit: &str,
        run: i64,
        state: &str,
        change: Option<&str>,
        at: Timestamp,
    ) -> Result<()> {
        self.conn.execute(
            "INSERT INTO toolstate (project, component, job, commit_id, run_id, state, change, at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![project, component, job, commit, run, state, change, at.0],
        )?;
        Ok(())
    }

    /// History of a project's components, newest first.
    pub fn toolstate_history(&self, project: &str, limit: usize) -> Result<Vec<ToolstateRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT component, job, commit_id, run_id, state, change, at FROM toolstate
             WHERE project = ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![project, limit as i64], |r| {
            Ok(ToolstateRecord {
                component: r.get(0)?,
                job: r.get(1)?,
                commit: r.get(2)?,
                run: r.get(3)?,
                state: r.get(4)?,
                change: r.get(5)?,
                at: Timestamp(r.get(6)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

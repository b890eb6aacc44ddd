//! The log analyzer's state: one serialised index of ordinary lines per
//! project, and the runs already learned. Every change is one transaction.
//!
//! Learning reads the index, learns outside any transaction (it reads log
//! files), then saves with [`Store::save_log_index`], which checks in the same
//! transaction that the run is not learned yet and that nobody saved the
//! project's index meanwhile (its `generation`); on a conflict the caller
//! reads again and relearns.

use ironworks_core::record::{RunId, Timestamp};
use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};

/// A project's stored index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLogIndex {
    /// The bytes of `ironworks_core::logs::LogIndex::to_bytes`.
    pub data: Vec<u8>,
    pub entries: i64,
    pub runs_learned: i64,
    /// Bumped by every save; pass it back to [`Store::save_log_index`].
    pub generation: i64,
    pub updated_at: Timestamp,
}

/// What learning one run added, for the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearnedRun<'a> {
    pub project: &'a str,
    pub run: RunId,
    /// Passed jobs whose logs were learned.
    pub jobs: i64,
    pub lines: i64,
    pub bytes: i64,
    /// The new index, serialised.
    pub data: &'a [u8],
    pub entries: i64,
    pub at: Timestamp,
}

/// How a save ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogIndexSave {
    Saved,
    /// The run was learned before; nothing changed.
    AlreadyLearned,
    /// Someone saved the index since it was read; nothing changed.
    Conflict,
}

impl Store {
    /// The project's index, if any run of it was learned.
    pub fn log_index(&self, project: &str) -> Result<Option<StoredLogIndex>> {
        Ok(self
            .conn
            .query_row(
                "SELECT data, entries, runs_learned, generation, updated_at
                 FROM log_indexes WHERE project = ?1",
                [project],
                |r| {
                    Ok(StoredLogIndex {
                        data: r.get(0)?,
                        entries: r.get(1)?,
                        runs_learned: r.get(2)?,
                        generation: r.get(3)?,
                        updated_at: Timestamp(r.get(4)?),
                    })
                },
            )
            .optional()?)
    }

    pub fn log_learned(&self, run: RunId) -> Result<bool> {
        Ok(self
            .conn
            .query_row(
                "SELECT 1 FROM log_learned_runs WHERE run_id = ?1",
                [run.0],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }

    /// Green runs not learned yet, oldest first, optionally of one project.
    pub fn runs_to_learn(&self, project: Option<&str>) -> Result<Vec<RunId>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id FROM runs r
             WHERE r.status = 'green' AND (?1 IS NULL OR r.project = ?1)
               AND NOT EXISTS (SELECT 1 FROM log_learned_runs l WHERE l.run_id = r.id)
             ORDER BY r.id",
        )?;
        let rows = stmt.query_map(params![project], |r| Ok(RunId(r.get(0)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Save the index learned from `learned.run`, in one transaction, if
    /// the run is not learned yet and the stored index is still at
    /// `generation` (`None`: there was no index).
    pub fn save_log_index(
        &mut self,
        learned: &LearnedRun<'_>,
        generation: Option<i64>,
    ) -> Result<LogIndexSave> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: Option<i64> = tx
            .query_row(
                "SELECT 1 FROM log_learned_runs WHERE run_id = ?1",
                [learned.run.0],
                |r| r.get(0),
            )
            .optional()?;
        if done.is_some() {
            return Ok(LogIndexSave::AlreadyLearned);
        }
        let current: Option<i64> = tx
            .query_row(
                "SELECT generation FROM log_indexes WHERE project = ?1",
                [learned.project],
                |r| r.get(0),
            )
            .optional()?;
        if current != generation {
            return Ok(LogIndexSave::Conflict);
        }
        tx.execute(
            "INSERT INTO log_indexes (project, data, entries, runs_learned, generation, updated_at)
             VALUES (?1, ?2, ?3, 1, 1, ?4)
             ON CONFLICT (project) DO UPDATE SET data = excluded.data, entries = excluded.entries,
                 runs_learned = runs_learned + 1, generation = generation + 1,
                 updated_at = excluded.updated_at",
            params![learned.project, learned.data, learned.entries, learned.at.0],
        )?;
        tx.execute(
            "INSERT INTO log_learned_runs (run_id, project, jobs, lines, bytes, learned_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                learned.run.0,
                learned.project,
                learned.jobs,
                learned.lines,
                learned.bytes,
                learned.at.0
            ],
        )?;
        tx.commit()?;
        Ok(LogIndexSave::Saved)
    }
}

#[cfg(test)]
mod tests {
    use ironworks_core::adapter::Gate;
    use ironworks_core::gate::RunStatus;
    use ironworks_core::stage::Stage;

    use super::*;
    use crate::{NewJobRun, NewRun};

    fn run(store: &mut Store, project: &str, token: &str, status: RunStatus) -> RunId {
        let (id, _) = store
            .begin_run(&NewRun {
                project: project.into(),
                stage: Stage::Spark,
                commit: "c".repeat(40),
                rev: "HEAD".into(),
                source: "/src".into(),
                token: token.into(),
                started_at: Timestamp(1),
                jobs: vec![NewJobRun {
                    job: "build".into(),
                    gate: Gate::Required,
                    argv: vec!["make".into()],
                }],
                purpose: "stage".into(),
                pr: None,
            })
            .unwrap();
        store.finish_run(id, status, Timestamp(2)).unwrap();
        id
    }

    fn learned<'a>(project: &'a str, run: RunId, data: &'a [u8]) -> LearnedRun<'a> {
        LearnedRun {
            project,
            run,
            jobs: 1,
            lines: 10,
            bytes: 100,
            data,
            entries: 3,
            at: Timestamp(5),
        }
    }

    #[test]
    fn an_index_is_saved_per_project_and_a_run_is_learned_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let a1 = run(&mut store, "a", "t1", RunStatus::Green);
        let a2 = run(&mut store, "a", "t2", RunStatus::Green);
        let b1 = run(&mut store, "b", "t3", RunStatus::Green);
        let red = run(&mut store, "a", "t4", RunStatus::Red);
        assert_eq!(store.log_index("a").unwrap(), None);
        assert_eq!(store.runs_to_learn(None).unwrap(), [a1, a2, b1]);
        assert_eq!(store.runs_to_learn(Some("b")).unwrap(), [b1]);

        let save = store.save_log_index(&learned("a", a1, b"one"), None);
        assert_eq!(save.unwrap(), LogIndexSave::Saved);
        let index = store.log_index("a").unwrap().unwrap();
        assert_eq!(
            (index.data.as_slice(), index.runs_learned, index.generation),
            (&b"one"[..], 1, 1)
        );
        assert!(store.log_learned(a1).unwrap());
        assert!(!store.log_learned(red).unwrap());

        // Learning the same run again changes nothing.
        let again = store.save_log_index(&learned("a", a1, b"two"), Some(1));
        assert_eq!(again.unwrap(), LogIndexSave::AlreadyLearned);
        assert_eq!(store.log_index("a").unwrap().unwrap().data, b"one");

        // A writer that read an older generation loses and changes nothing.
        let stale = store.save_log_index(&learned("a", a2, b"two"), None);
        assert_eq!(stale.unwrap(), LogIndexSave::Conflict);
        assert!(!store.log_learned(a2).unwrap());
        let fresh = store.save_log_index(&learned("a", a2, b"two"), Some(1));
        assert_eq!(fresh.unwrap(), LogIndexSave::Saved);
        let index = store.log_index("a").unwrap().unwrap();
        assert_eq!(
            (index.data.as_slice(), index.runs_learned),
            (&b"two"[..], 2)
        );

        // Projects do not share an index.
        assert_eq!(store.log_index("b").unwrap(), None);
        assert_eq!(store.runs_to_learn(None).unwrap(), [b1]);
    }

    #[test]
    fn the_index_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let run_id = {
            let mut store = Store::open(dir.path()).unwrap();
            let id = run(&mut store, "a", "t1", RunStatus::Green);
            store
                .save_log_index(&learned("a", id, b"bytes"), None)
                .unwrap();
            id
        };
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.log_index("a").unwrap().unwrap().data, b"bytes");
        assert!(store.log_learned(run_id).unwrap());
    }
}

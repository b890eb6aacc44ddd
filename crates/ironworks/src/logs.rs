//! The log analyzer's edge: streams job logs from disk through the core's
//! [`ironworks_core::logs`] and keeps each project's index in the store.
//!
//! Files are read in fixed-size chunks and cut into capped lines, so memory
//! stays bounded whatever a log's size (a 1 GB log costs the chunk, one
//! capped line and the index). See docs/logs.md.

use std::fs::File;
use std::io::{ErrorKind, Read as _};
use std::path::Path;

use ironworks_core::gate::{JobStatus, RunStatus};
use ironworks_core::logs::{ExtractOptions, Extraction, Extractor, LineSplitter, LogIndex};
use ironworks_core::record::{RunDetail, RunId};
use ironworks_store::Store;
use ironworks_store::logs::{LearnedRun, LogIndexSave};
use serde::Serialize;

use crate::context::now;
use crate::error::Failure;

/// Bytes read from a log at a time.
pub const CHUNK_BYTES: usize = 256 * 1024;
/// Saves retried when another process saved the same index meanwhile.
const SAVE_ATTEMPTS: usize = 5;

/// Call `line` for each line of the file at `path` (without `\n`), reading
/// it in chunks; returns the bytes read.
pub fn for_each_line(path: &Path, mut line: impl FnMut(&[u8])) -> std::io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; CHUNK_BYTES];
    let mut splitter = LineSplitter::default();
    let mut total = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total += n as u64;
        splitter.feed(&buf[..n], &mut line);
    }
    splitter.finish(&mut line);
    Ok(total)
}

/// What learning one run did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearnReport {
    pub run: RunId,
    pub project: String,
    /// Passed jobs whose logs were learned now (0 when `already_learned`).
    pub jobs: usize,
    pub lines: u64,
    pub bytes: u64,
    /// Lines the index had not seen before.
    pub new_lines: u64,
    /// The run had been learned before; nothing changed.
    pub already_learned: bool,
    /// Distinct lines in the project's index afterwards.
    pub index_entries: usize,
}

/// Learn the logs of the passed jobs of `run` into its project's index.
/// Idempotent: a run is learned once; returns how many job logs were
/// learned now (0 if the run was learned before). The runner calls it after
/// a green run.
pub fn learn_from_run(store: &mut Store, run: RunId) -> Result<usize, Failure> {
    Ok(learn_run(store, run)?.jobs)
}

/// [`learn_from_run`], with the details for `ironworks logs learn`.
pub fn learn_run(store: &mut Store, run: RunId) -> Result<LearnReport, Failure> {
    let detail = find_run(store, run)?;
    if detail.run.status == RunStatus::Running {
        return Err(Failure::usage(format!(
            "run {run} is still running; its logs are learned once it ends"
        )));
    }
    let project = detail.run.project.clone();
    for _ in 0..SAVE_ATTEMPTS {
        let (mut index, stored) = load_index(store, &project)?;
        let generation = stored.map(|s| s.generation);
        let mut report = LearnReport {
            run,
            project: project.clone(),
            jobs: 0,
            lines: 0,
            bytes: 0,
            new_lines: 0,
            already_learned: false,
            index_entries: 0,
        };
        if store.log_learned(run)? {
            report.already_learned = true;
            report.index_entries = index.len();
            return Ok(report);
        }
        for job in &detail.jobs {
            let Some(path) = job
                .log
                .as_deref()
                .filter(|_| job.status == JobStatus::Passed)
            else {
                continue;
            };
            let mut learner = index.learn_log();
            match for_each_line(Path::new(path), |line| learner.line(line)) {
                Ok(_) => {}
                // A pruned log teaches nothing; the rest of the run still counts.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(Failure::environment(format!(
                        "cannot read log {path} of job `{}` in run {run}: {e}",
                        job.job
                    )));
                }
            }
            let stats = learner.finish();
            report.jobs += 1;
            report.lines += stats.lines;
            report.bytes += stats.bytes;
            report.new_lines += stats.new_lines;
        }
        let data = index.to_bytes();
        let saved = store.save_log_index(
            &LearnedRun {
                project: &project,
                run,
                jobs: report.jobs as i64,
                lines: report.lines as i64,
                bytes: report.bytes as i64,
                data: &data,
                entries: index.len() as i64,
                at: now(),
            },
            generation,
        )?;
        report.index_entries = index.len();
        match saved {
            LogIndexSave::Saved => return Ok(report),
            LogIndexSave::AlreadyLearned => {
                report.jobs = 0;
                report.lines = 0;
                report.bytes = 0;
                report.new_lines = 0;
                report.already_learned = true;
                return Ok(report);
            }
            LogIndexSave::Conflict => continue,
        }
    }
    Err(Failure::environment(format!(
        "could not save the log index of project `{project}`: other processes kept saving it"
    ))
    .help("run `ironworks logs learn` again"))
}

/// The index as it stands for `explain`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IndexSummary {
    /// Runs learned into the project's index.
    pub runs_learned: i64,
    /// Distinct ordinary lines it holds.
    pub entries: usize,
    pub capacity: usize,
}

/// The unusual blocks of one failed or timed-out job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobExplanation {
    pub job: String,
    pub status: JobStatus,
    /// The log file, when the job started.
    pub log: Option<String>,
    /// Why the log could not be read, when it could not.
    pub error: Option<String>,
    #[serde(flatten)]
    pub extraction: Extraction,
}

/// `ironworks logs explain RUN`: the stable JSON shape is documented in
/// docs/logs.md.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub run: RunId,
    pub project: String,
    pub status: RunStatus,
    pub index: IndexSummary,
    /// The failed and timed-out jobs, in plan order; empty when none failed.
    pub jobs: Vec<JobExplanation>,
}

/// The unusual blocks of the failed (and timed-out) jobs of `run`, against
/// its project's index.
pub fn explain(store: &Store, run: RunId, options: ExtractOptions) -> Result<Explanation, Failure> {
    let detail = find_run(store, run)?;
    let (index, stored) = load_index(store, &detail.run.project)?;
    let mut jobs = Vec::new();
    for job in &detail.jobs {
        if !matches!(job.status, JobStatus::Failed | JobStatus::TimedOut) {
            continue;
        }
        let mut explained = JobExplanation {
            job: job.job.clone(),
            status: job.status,
            log: job.log.clone(),
            error: None,
            extraction: Extraction::default(),
        };
        match job.log.as_deref() {
            None => explained.error = Some("the job never started, so it has no log".into()),
            Some(path) => {
                let mut extractor = Extractor::new(&index, options);
                match for_each_line(Path::new(path), |line| extractor.line(line)) {
                    Ok(_) => explained.extraction = extractor.finish(),
                    Err(e) => explained.error = Some(format!("cannot read log {path}: {e}")),
                }
            }
        }
        jobs.push(explained);
    }
    Ok(Explanation {
        run,
        project: detail.run.project,
        status: detail.run.status,
        index: IndexSummary {
            runs_learned: stored.map_or(0, |s| s.runs_learned),
            entries: index.len(),
            capacity: index.capacity(),
        },
        jobs,
    })
}

fn find_run(store: &Store, run: RunId) -> Result<RunDetail, Failure> {
    store.run(run)?.ok_or_else(|| {
        Failure::usage(format!("no run {run} in this state directory"))
            .help("`ironworks runs` lists the recorded runs")
    })
}

/// How a stored index stood when it was read.
#[derive(Debug, Clone, Copy)]
struct StoredMeta {
    generation: i64,
    runs_learned: i64,
}

/// The project's index and how it stood (`None`: none saved yet).
fn load_index(store: &Store, project: &str) -> Result<(LogIndex, Option<StoredMeta>), Failure> {
    match store.log_index(project)? {
        None => Ok((LogIndex::default(), None)),
        Some(stored) => {
            let index = LogIndex::from_bytes(&stored.data).map_err(|e| {
                Failure::environment(format!(
                    "the log index of project `{project}` cannot be read: {e}"
                ))
                .help("the state database was changed by something else; restore it from a backup")
            })?;
            let meta = StoredMeta {
                generation: stored.generation,
                runs_learned: stored.runs_learned,
            };
            Ok((index, Some(meta)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_streamed_line_by_line_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("job.log");
        // Lines that straddle chunk boundaries, bytes that are not UTF-8,
        // and no final newline.
        let mut text = Vec::new();
        for i in 0..100_000 {
            text.extend_from_slice(format!("line {i} ").as_bytes());
            text.extend_from_slice(b"\xff\n");
        }
        text.extend_from_slice(b"last");
        std::fs::write(&path, &text).unwrap();
        let mut count = 0usize;
        let mut last = Vec::new();
        let read = for_each_line(&path, |line| {
            if count < 100_000 {
                let mut expected = format!("line {count} ").into_bytes();
                expected.push(0xff);
                assert_eq!(line, expected);
            }
            count += 1;
            last = line.to_vec();
        })
        .unwrap();
        assert_eq!(read, text.len() as u64);
        assert_eq!(count, 100_001);
        assert_eq!(last, b"last");
        let missing = for_each_line(&dir.path().join("nope"), |_| {});
        assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
    }
}

//! Records of runs and job runs: what the store keeps and what `--json`
//! prints. These shapes are a stable contract (docs/cli.md); add fields, do not
//! rename or remove them.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Serialize, Serializer};

use crate::adapter::Gate;
use crate::gate::{JobStatus, RunStatus};
use crate::stage::Stage;

/// A point in time, kept as milliseconds since the Unix epoch and shown as
/// RFC 3339 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_system(time: SystemTime) -> Self {
        let ms = time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        Timestamp(ms)
    }

    pub fn to_system(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.max(0) as u64)
    }

    pub fn rfc3339(self) -> String {
        humantime::format_rfc3339_millis(self.to_system()).to_string()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.rfc3339())
    }
}

/// Newtype for run ids, so a job-run id is never passed where a run id goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct JobRunId(pub i64);

impl std::fmt::Display for RunId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// One run: one stage for one commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunRecord {
    pub id: RunId,
    pub project: String,
    pub stage: Stage,
    /// The full commit id the run tested.
    pub commit: String,
    /// The revision as the user named it.
    pub rev: String,
    pub source: String,
    pub status: RunStatus,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    /// Counts of this run's jobs by outcome.
    pub jobs_total: i64,
    pub jobs_passed: i64,
    pub jobs_failed: i64,
}

/// One job of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobRunRecord {
    pub id: JobRunId,
    pub job: String,
    pub gate: Gate,
    pub status: JobStatus,
    /// The argv that was (or would have been) executed.
    pub argv: Vec<String>,
    pub exit_code: Option<i32>,
    /// The signal that ended the job's main process, if one did.
    pub signal: Option<i32>,
    /// Why the job ended as it did, in words, when the status alone does not say.
    pub reason: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    pub log: Option<String>,
    pub tests: Option<TestCounts>,
    pub test_failures: Vec<TestFailure>,
    pub artifacts: Vec<ArtifactRecord>,
}

/// Counts from a job's JUnit report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct TestCounts {
    pub total: i64,
    pub failed: i64,
    pub skipped: i64,
}

/// A failed test case named by a JUnit report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestFailure {
    pub name: String,
    pub message: Option<String>,
}

/// A file kept from a job's checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArtifactRecord {
    /// Path relative to the checkout.
    pub path: String,
    /// Where Ironworks keeps the copy.
    pub stored_at: String,
    pub size: u64,
    pub sha256: String,
}

/// A run with its jobs, for `ironworks show`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRecord,
    pub jobs: Vec<JobRunRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_serialize_as_rfc3339_utc() {
        let t = Timestamp(1_700_000_000_123);
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2023-11-14T22:13:20.123Z\""
        );
        assert_eq!(Timestamp::from_system(t.to_system()), t);
    }
}

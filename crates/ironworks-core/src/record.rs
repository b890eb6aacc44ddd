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
    /// stage | spark-pr | forge-snapshot | gated-build | bisect | try | rerun
    pub purpose: String,
    /// The PR the run is about, if any.
    pub pr: Option<i64>,
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
    /// Peak resident memory of the job's process group, KiB, sampled every
    /// 250 ms while it ran.
    pub peak_rss_kb: Option<u64>,
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

/// A pull request in local host mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrRecord {
    pub id: i64,
    pub project: String,
    pub title: String,
    pub head_ref: String,
    pub head_sha: String,
    pub target: String,
    pub priority: i64,
    pub rollup: String,
    /// open | conflict | merged | ejected | reverted | closed
    pub state: String,
    pub state_reason: Option<String>,
    pub approved_by: Option<String>,
    pub approved_at: Option<Timestamp>,
    pub labels: Vec<String>,
    pub spark_run: Option<i64>,
    pub spark_sha: Option<String>,
    /// green | red, for `spark_sha`.
    pub spark_status: Option<String>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
}

impl PrRecord {
    /// Spark is green for the current head.
    pub fn spark_green(&self) -> bool {
        self.spark_sha.as_deref() == Some(self.head_sha.as_str())
            && self.spark_status.as_deref() == Some("green")
    }

    /// Approved, spark-green on the current head, and labelled ready.
    pub fn eligible(&self, ready_label: &str) -> bool {
        self.state == "open"
            && self.approved_by.is_some()
            && self.spark_green()
            && self.labels.iter().any(|l| l == ready_label)
    }
}

/// A promotion: one PR merged into staging.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromotionRecord {
    pub id: i64,
    pub pr: i64,
    pub head_sha: String,
    pub merge_commit: String,
    pub staging_before: String,
    /// The staging commit it landed with (its own merge in post-merge mode,
    /// the candidate of its gated build otherwise).
    pub landed_in: String,
    /// pending | done | reverted
    pub state: String,
    pub promoted_at: Timestamp,
    pub revert_commit: Option<String>,
}

/// A staging commit with its forge verdict and the promotions it contains
/// since the previous snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotRecord {
    pub id: i64,
    pub project: String,
    pub commit: String,
    /// pending | green | red
    pub status: String,
    pub forge_run: Option<i64>,
    pub note: Option<String>,
    pub created_at: Timestamp,
    pub promotions: Vec<PromotionRecord>,
}

/// A triage or queue record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriageRecord {
    pub id: i64,
    /// culprit | interaction | flake | demotion | ejection | conflict
    pub kind: String,
    pub snapshot: Option<i64>,
    pub prs: Vec<i64>,
    pub job: Option<String>,
    pub runs: Vec<i64>,
    pub summary: String,
    pub created_at: Timestamp,
}

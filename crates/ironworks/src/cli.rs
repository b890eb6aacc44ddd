//! Command-line arguments. Parsing only; the commands live in `commands`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use ironworks_core::Stage;

#[derive(Debug, Parser)]
#[command(
    name = "ironworks",
    version,
    about = "A staged test, regression and release pipeline",
    long_about = "Ironworks runs a project's jobs stage by stage (spark, forge, harden, temper, stamp) \
                  on exact commits, in clean checkouts, and records every run.\n\n\
                  Start with `ironworks demo`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the adapter and the state are; shared by every command.
#[derive(Debug, Args, Clone)]
pub struct Location {
    /// The project adapter (default: ironworks.toml here or in the nearest parent).
    #[arg(long, global = true, value_name = "FILE")]
    pub adapter: Option<PathBuf>,
    /// The state directory (default: $IRONWORKS_STATE_DIR, else .ironworks next to the adapter).
    #[arg(long, global = true, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the example project in a fresh git repository and run its spark stage.
    Demo {
        /// Where to create it (must not exist or be empty; default: ./ironworks-demo).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Jobs to run at once (default: number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
    },
    /// List the five stages with their enabled / implemented / active flags.
    Stages {
        #[command(flatten)]
        location: Location,
        /// Print JSON: one object per stage, in catalog order.
        #[arg(long)]
        json: bool,
    },
    /// Run one stage's active, non-optional jobs for one commit.
    Run {
        /// The stage: spark, forge, harden, temper or stamp.
        #[arg(value_parser = parse_stage)]
        stage: Stage,
        #[command(flatten)]
        location: Location,
        /// The source repository (default: the adapter's [project] source).
        #[arg(long, value_name = "PATH")]
        source: Option<PathBuf>,
        /// The revision to test: branch, tag or commit.
        #[arg(long, value_name = "REV", default_value = "HEAD")]
        rev: String,
        /// Jobs to run at once (default: number of cores).
        #[arg(long, short = 'j', value_name = "N")]
        jobs: Option<usize>,
        /// Keep each job's checkout after it ends (under the state directory's work/).
        #[arg(long)]
        keep_checkouts: bool,
        /// Print the finished run as JSON (as `ironworks show --json` does) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Reproduce one job of any stage on this machine, exactly as CI runs it.
    RunLocal {
        /// The job's name.
        job: String,
        #[command(flatten)]
        location: Location,
        /// The source repository (default: the adapter's [project] source).
        #[arg(long, value_name = "PATH")]
        source: Option<PathBuf>,
        /// The revision: branch, tag or commit.
        #[arg(long, value_name = "REV", default_value = "HEAD")]
        rev: String,
        /// Keep the job's checkout afterwards (under the state directory's work/).
        #[arg(long)]
        keep_checkout: bool,
    },
    /// List recorded runs, newest first.
    Runs {
        #[command(flatten)]
        location: Location,
        /// At most this many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show one run with its jobs.
    Show {
        /// The run id (as listed by `ironworks runs`).
        run: i64,
        #[command(flatten)]
        location: Location,
        /// Print this job's log after the run.
        #[arg(long, value_name = "JOB")]
        log: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Work with adapter files.
    Adapter {
        #[command(subcommand)]
        command: AdapterCommand,
    },
    /// Pull requests in local host mode (no code-hosting service needed).
    Pr {
        #[command(subcommand)]
        command: PrCommand,
    },
    /// The promotion queue: move eligible PRs into staging.
    Queue {
        #[command(subcommand)]
        command: QueueCommand,
    },
    /// Staging snapshots with their forge verdicts and promotions, newest first.
    Snapshots {
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
    /// Triage records: culprits, interactions, flakes, demotions, ejections, conflicts.
    Triage {
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
    /// Print the GitHub Actions job matrix of a rust-lang-style jobs file, as
    /// rust-lang's `calculate-job-matrix` does (see docs/rust-ci.md).
    Matrix(crate::commands::MatrixArgs),
    /// The log analyzer: the unusual lines of failed jobs' logs.
    Logs {
        #[command(subcommand)]
        command: crate::commands::LogsCommand,
    },
    /// Releases: cut from forge-green snapshots, fixes through temper, proof of every commit.
    Release {
        #[command(subcommand)]
        command: ReleaseCommand,
    },
    /// Scheduled heavy validation on forge-green snapshots.
    Harden {
        #[command(subcommand)]
        command: HardenCommand,
    },
    /// Export the adapter's jobs for other engines.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// Components allowed to fail: their latest state and history.
    Toolstate {
        #[command(flatten)]
        location: Location,
        /// How many history entries to show.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Simulations in virtual time.
    Sim {
        #[command(subcommand)]
        command: SimCommand,
    },
    /// Run selected jobs on a PR merged onto staging, without promoting it.
    Try {
        /// The PR number.
        pr: i64,
        #[command(flatten)]
        location: Location,
        /// Comma-separated globs over forge, harden and optional job names
        /// (default: the adapter's [try] default, else every forge job).
        #[arg(long, value_name = "PATTERNS")]
        jobs: Option<String>,
        /// Allow more than 20 jobs.
        #[arg(long)]
        no_limit: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReleaseCommand {
    /// Create release/VERSION at a forge-green snapshot.
    Cut {
        version: String,
        /// The snapshot (as listed by `ironworks snapshots`); must be green.
        #[arg(long, value_name = "ID")]
        snapshot: i64,
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
    /// Land a PR that targets release/VERSION, only if temper passes on the merge.
    Fix {
        version: String,
        #[arg(long, value_name = "N")]
        pr: i64,
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
    /// Prove every commit on the release branch was vetted; names the ones that were not.
    Verify {
        version: String,
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum HardenCommand {
    /// Run the harden jobs whose schedule has fired, on the newest
    /// forge-green snapshot (for cron or a timer).
    Tick {
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
    /// Run harden jobs now, whatever their schedule.
    Run {
        #[command(flatten)]
        location: Location,
        /// Only this job.
        #[arg(long, value_name = "NAME")]
        job: Option<String>,
        /// This (forge-green) snapshot instead of the newest green one.
        #[arg(long, value_name = "ID")]
        snapshot: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Per harden job: last run, snapshot, verdict, age; and project health.
    Status {
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// A GitHub Actions job matrix: each entry runs `ironworks run-local JOB`.
    GithubMatrix {
        #[command(flatten)]
        location: Location,
        /// The stage whose active, non-optional jobs to export.
        #[arg(long, default_value = "spark", value_parser = parse_stage)]
        stage: Stage,
        /// Instead of a stage: comma-separated globs over forge, harden and
        /// optional jobs, with the same rules as `ironworks try`.
        #[arg(long, value_name = "PATTERNS")]
        jobs: Option<String>,
        /// Allow more than 20 jobs with --jobs.
        #[arg(long)]
        no_limit: bool,
        /// The runner label every entry runs on.
        #[arg(long, default_value = "ubuntu-latest")]
        runs_on: String,
        /// Pretty JSON instead of the `matrix=...` line for $GITHUB_OUTPUT.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Compare the queue policies on a seeded scenario, in virtual time.
    Queue(crate::commands::SimQueueArgs),
}

#[derive(Debug, Subcommand)]
pub enum PrCommand {
    /// Record a PR for a branch of the source repository and run spark on its head.
    Open {
        #[command(flatten)]
        location: Location,
        /// The source repository (default: the adapter's [project] source).
        #[arg(long, value_name = "PATH")]
        source: Option<PathBuf>,
        /// The PR's head: a branch (or any revision) of the source repository.
        #[arg(long, value_name = "REF")]
        head: String,
        #[arg(long, value_name = "TEXT")]
        title: Option<String>,
        /// Higher goes first in the queue.
        #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
        priority: i64,
        /// always, maybe, iffy or never (may it be batched with others?).
        #[arg(long, default_value = "maybe", value_parser = parse_rollup)]
        rollup: String,
        /// The branch it targets (default: the adapter's [queue] target).
        #[arg(long, value_name = "BRANCH")]
        target: Option<String>,
        /// Do not run spark now.
        #[arg(long)]
        no_spark: bool,
        #[arg(long)]
        json: bool,
    },
    /// Approve a PR's current head.
    Approve {
        pr: i64,
        #[arg(long, value_name = "USER")]
        by: String,
        #[command(flatten)]
        location: Location,
    },
    /// Withdraw approval.
    Unapprove {
        pr: i64,
        #[command(flatten)]
        location: Location,
    },
    /// Add (or with --remove, take off) a label.
    Label {
        pr: i64,
        label: String,
        #[arg(long)]
        remove: bool,
        #[command(flatten)]
        location: Location,
    },
    /// Look at a PR's head again (a new head resets approval and reruns spark).
    Sync {
        pr: i64,
        #[command(flatten)]
        location: Location,
    },
    /// List PRs.
    List {
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Promote what is eligible (post-merge), or test and land candidates
    /// (gated), until the queue is idle.
    Run {
        #[command(flatten)]
        location: Location,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdapterCommand {
    /// Validate an adapter and summarise it.
    Check {
        #[command(flatten)]
        location: Location,
    },
}

fn parse_rollup(text: &str) -> Result<String, String> {
    text.parse::<ironworks_core::queue::Rollup>()
        .map(|r| r.to_string())
}

fn parse_stage(text: &str) -> Result<Stage, String> {
    text.parse::<Stage>().map_err(|e| e.to_string())
}

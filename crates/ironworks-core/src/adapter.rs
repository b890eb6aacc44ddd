//! Project adapters: the TOML file that maps the stage vocabulary onto a
//! project's concrete jobs. Parsing and validation are pure; every problem is
//! reported with file:line:column and what was expected, all at once.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::duration;
use crate::stage::{Stage, StageStatus};

/// The adapter file Ironworks looks for when `--adapter` is not given.
pub const ADAPTER_FILE_NAME: &str = "ironworks.toml";
/// A job's timeout when the adapter does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Time between SIGTERM and SIGKILL when the adapter does not say.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);
/// Environment variable names Ironworks sets itself; jobs may not declare them.
pub const RESERVED_ENV_PREFIX: &str = "IRONWORKS_";

/// Whether a job's failure turns its stage red.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// Gates its stage: the stage is green only if it passed.
    #[default]
    Required,
    /// Reported, never gates.
    Observe,
}

impl Gate {
    pub fn as_str(self) -> &'static str {
        match self {
            Gate::Required => "required",
            Gate::Observe => "observe",
        }
    }
}

/// What a job runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobCommand {
    /// An argv vector, run without a shell.
    Argv(Vec<String>),
    /// A shell script, run as `/bin/sh -ec SCRIPT`.
    Script(String),
}

impl JobCommand {
    /// The exact argv Ironworks executes.
    pub fn argv(&self) -> Vec<String> {
        match self {
            JobCommand::Argv(argv) => argv.clone(),
            JobCommand::Script(script) => vec!["/bin/sh".into(), "-ec".into(), script.clone()],
        }
    }
}

/// A validated job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub name: String,
    pub stage: Stage,
    pub command: JobCommand,
    pub gate: Gate,
    #[serde(with = "duration_ms")]
    pub timeout: Duration,
    #[serde(with = "duration_ms")]
    pub grace: Duration,
    /// Declared environment, on top of the minimal base Ironworks provides.
    pub env: BTreeMap<String, String>,
    /// Names of variables passed through from the environment Ironworks runs in.
    pub pass_env: Vec<String>,
    /// Jobs of the same stage that must pass before this one starts.
    pub needs: Vec<String>,
    /// Globs, relative to the checkout, of files kept after the job.
    pub artifacts: Vec<String>,
    /// JUnit XML report the job writes, relative to the checkout.
    pub junit: Option<String>,
    /// Only run when asked for by name (try builds), never by default.
    pub optional: bool,
    /// A component allowed to fail (see `toolstate`): never gates directly.
    pub toolstate: Option<String>,
    /// Harden job kind and schedule (see `harden`).
    pub harden: HardenJob,
    pub description: Option<String>,
}

/// What kind of harden job a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HardenKind {
    /// A command, judged by its exit code.
    #[default]
    Plain,
    /// Deterministic replay: the command's JSON output is checked against `expect`.
    Replay,
    Fuzz,
    Compat,
}

/// The harden part of a job.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct HardenJob {
    pub kind: HardenKind,
    /// Cron schedule (UTC) for `ironworks harden tick`.
    pub schedule: Option<String>,
    /// JSON pointer -> expected value, checked against the command's output.
    pub expect: BTreeMap<String, serde_json::Value>,
    /// Where the JSON to check is: a file in the checkout, else the log's
    /// last JSON line.
    pub output: Option<String>,
    /// The fixture unpacked into `$IRONWORKS_FIXTURE_DIR` before the job runs.
    pub fixture: Option<String>,
    /// Compat jobs: the previous-release fixtures run against, in order.
    pub releases: Vec<String>,
    /// Fuzz jobs: what to fuzz, and the limits.
    pub fuzz: Option<FuzzSettings>,
}

/// The `fuzz` table of a fuzz job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FuzzSettings {
    /// The fuzz binary the job's command builds, relative to the checkout.
    pub binary: String,
    /// Targets to run; empty means every target the binary lists when
    /// `PRINT_ALL_FUZZ_TARGETS_AND_ABORT` is set (Bitcoin Core style).
    pub targets: Vec<String>,
    #[serde(with = "duration_ms")]
    pub budget: Duration,
    #[serde(with = "duration_ms")]
    pub input_timeout: Duration,
    pub rss_limit_mb: u64,
    /// A fuzz-corpus fixture seeding every target.
    pub corpus: Option<String>,
}

/// The stage policy: which stages this deployment wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StagePolicy {
    enabled: [bool; 5],
}

impl Default for StagePolicy {
    fn default() -> Self {
        StagePolicy {
            enabled: Stage::ALL.map(Stage::enabled_by_default),
        }
    }
}

impl StagePolicy {
    pub fn is_enabled(&self, stage: Stage) -> bool {
        self.enabled[stage as usize]
    }

    fn set(&mut self, stage: Stage, on: bool) {
        self.enabled[stage as usize] = on;
    }
}

/// The project section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    pub id: String,
    /// Where the source repository lives, relative to the adapter file.
    pub source: String,
    pub description: Option<String>,
}

/// A parsed and validated adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Adapter {
    pub project: Project,
    pub policy: StagePolicy,
    pub queue: QueueSettings,
    pub try_builds: TrySettings,
    pub toolstate: crate::toolstate::ToolstateSettings,
    /// Pinned fixtures harden jobs use (`[[fixture]]`).
    pub fixtures: Vec<crate::fixture::Fixture>,
    /// Jobs in declaration order.
    pub jobs: Vec<Job>,
}

/// How PRs reach `staging` (DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum QueueMode {
    /// Promote eligible PRs at once; forge judges each new staging head and
    /// red snapshots are triaged.
    #[default]
    PostMerge,
    /// Test candidates first; staging only moves to a tree that passed.
    Gated,
}

/// The `[queue]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    pub mode: QueueMode,
    /// The gated-mode policy (see `queue::policy`).
    pub policy: String,
    /// Builds the gated queue may run at once.
    pub builders: usize,
    pub max_batch: usize,
    /// The label that makes an approved, spark-green PR eligible.
    pub ready_label: String,
    /// The integration branch.
    pub staging: String,
    /// The branch PRs target unless they say otherwise.
    pub target: String,
    /// Flakes a job may have before it is demoted to `observe`.
    pub flake_budget: u32,
    /// Fast-forward `target` to each new green snapshot.
    pub fast_forward_target: bool,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            mode: QueueMode::PostMerge,
            policy: "ironworks".into(),
            builders: 1,
            max_batch: 8,
            ready_label: "ready-for-staging".into(),
            staging: "staging".into(),
            target: "master".into(),
            flake_budget: 3,
            fast_forward_target: false,
        }
    }
}

/// The `[try]` table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrySettings {
    /// Job patterns a try build runs when none are given; empty means every
    /// non-optional forge job.
    pub default: Vec<String>,
}

/// The queue policies a project may choose.
pub use crate::queue::POLICIES as QUEUE_POLICIES;

impl Adapter {
    /// Parse and validate adapter text. `file` names the file in messages.
    pub fn parse(file: &str, source: &str) -> Result<Adapter, Diagnostics> {
        let raw: RawAdapter = toml::from_str(source).map_err(|err| {
            Diagnostics(vec![Diagnostic::at(
                file,
                source,
                err.span(),
                err.message().trim_end().to_owned(),
            )])
        })?;
        let fixtures = if raw.fixture.is_empty() {
            Ok(Vec::new())
        } else {
            crate::fixture::parse_fixtures(file, source)
        };
        let mut validator = Validator::new(file, source);
        let fixtures = match fixtures {
            Ok(fixtures) => fixtures,
            Err(problems) => {
                validator.problems.extend(problems.0);
                Vec::new()
            }
        };
        validator.fixtures = fixtures;
        validator.validate(raw)
    }

    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|job| job.name == name)
    }

    pub fn jobs_in(&self, stage: Stage) -> impl Iterator<Item = &Job> {
        self.jobs.iter().filter(move |job| job.stage == stage)
    }

    /// Every stage, in catalog order, as this project sees it.
    pub fn stage_catalog(&self) -> Vec<StageStatus> {
        Stage::ALL
            .into_iter()
            .map(|stage| {
                let jobs = self.jobs_in(stage).count();
                let enabled = self.policy.is_enabled(stage);
                StageStatus {
                    stage,
                    enabled,
                    implemented: jobs > 0,
                    active: enabled && jobs > 0,
                    jobs,
                }
            })
            .collect()
    }

    /// The closest job name to `name`, for "did you mean" hints.
    pub fn suggest_job(&self, name: &str) -> Option<&str> {
        suggest(name, self.jobs.iter().map(|job| job.name.as_str()))
    }
}

fn suggest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|candidate| (candidate, strsim::levenshtein(candidate, given)))
        .filter(|(candidate, distance)| *distance <= 2.max(candidate.len() / 3))
        .min_by_key(|(_, distance)| *distance)
        .map(|(candidate, _)| candidate)
}

// ---- the file as written -------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdapter {
    project: RawProject,
    #[serde(default)]
    stages: RawStages,
    #[serde(default)]
    job: Vec<Spanned<RawJob>>,
    #[serde(default)]
    queue: RawQueue,
    #[serde(default, rename = "try")]
    try_builds: RawTry,
    #[serde(default)]
    toolstate: RawToolstate,
    /// Validated by `fixture::parse_fixtures`.
    #[serde(default)]
    fixture: Vec<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawToolstate {
    #[serde(default)]
    stable: Vec<Spanned<String>>,
    #[serde(default)]
    release_dates: Vec<Spanned<String>>,
    window: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawQueue {
    mode: Option<Spanned<String>>,
    policy: Option<Spanned<String>>,
    builders: Option<Spanned<i64>>,
    max_batch: Option<Spanned<i64>>,
    ready_label: Option<Spanned<String>>,
    staging: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    flake_budget: Option<Spanned<i64>>,
    fast_forward_target: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTry {
    #[serde(default)]
    default: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProject {
    id: Spanned<String>,
    source: Option<Spanned<String>>,
    description: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStages {
    #[serde(default)]
    enable: Vec<Spanned<String>>,
    #[serde(default)]
    disable: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    name: Spanned<String>,
    stage: Spanned<String>,
    run: Option<Spanned<Vec<String>>>,
    script: Option<Spanned<String>>,
    #[serde(default)]
    gate: Gate,
    timeout: Option<Spanned<String>>,
    grace: Option<Spanned<String>>,
    env: Option<Spanned<BTreeMap<String, String>>>,
    #[serde(default)]
    pass_env: Vec<Spanned<String>>,
    #[serde(default)]
    needs: Vec<Spanned<String>>,
    #[serde(default)]
    artifacts: Vec<Spanned<String>>,
    #[serde(default)]
    results: RawResults,
    #[serde(default)]
    optional: bool,
    toolstate: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    schedule: Option<Spanned<String>>,
    expect: Option<Spanned<BTreeMap<String, serde_json::Value>>>,
    output: Option<Spanned<String>>,
    fixture: Option<Spanned<String>>,
    #[serde(default)]
    releases: Vec<Spanned<String>>,
    fuzz: Option<Spanned<RawFuzz>>,
    description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFuzz {
    binary: Spanned<String>,
    #[serde(default)]
    targets: Vec<Spanned<String>>,
    budget: Option<Spanned<String>>,
    input_timeout: Option<Spanned<String>>,
    rss_limit_mb: Option<u64>,
    corpus: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawResults {
    junit: Option<Spanned<String>>,
}

// ---- validation ------------------------------------------------------------

struct Validator<'a> {
    file: &'a str,
    source: &'a str,
    problems: Vec<Diagnostic>,
    fixtures: Vec<crate::fixture::Fixture>,
}

impl<'a> Validator<'a> {
    fn new(file: &'a str, source: &'a str) -> Self {
        Validator {
            file,
            source,
            problems: Vec::new(),
            fixtures: Vec::new(),
        }
    }

    fn error<T>(&mut self, spanned: &Spanned<T>, message: impl Into<String>) -> &mut Diagnostic {
        self.problems.push(Diagnostic::at(
            self.file,
            self.source,
            Some(spanned.span()),
            message,
        ));
        self.problems.last_mut().expect("just pushed")
    }

    fn validate(mut self, raw: RawAdapter) -> Result<Adapter, Diagnostics> {
        let project = self.project(raw.project);
        let policy = self.policy(&raw.stages);
        let jobs = self.jobs(raw.job);
        let queue = self.queue(raw.queue);
        let toolstate = self.toolstate(raw.toolstate, &jobs);
        let try_builds = TrySettings {
            default: raw
                .try_builds
                .default
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
        };
        if self.problems.is_empty() {
            Ok(Adapter {
                project,
                policy,
                queue,
                try_builds,
                toolstate,
                fixtures: std::mem::take(&mut self.fixtures),
                jobs,
            })
        } else {
            self.problems.sort_by_key(|d| d.position);
            Err(Diagnostics(self.problems))
        }
    }

    fn harden_job(&mut self, raw: &RawJob, stage: Option<Stage>) -> HardenJob {
        let mut harden = HardenJob::default();
        let in_harden = stage == Some(Stage::Harden);
        if let Some(kind) = &raw.kind {
            harden.kind = match kind.get_ref().as_str() {
                "plain" => HardenKind::Plain,
                "replay" => HardenKind::Replay,
                "fuzz" => HardenKind::Fuzz,
                "compat" => HardenKind::Compat,
                other => {
                    self.error(
                        kind,
                        format!(
                            "unknown job kind `{other}`; expected plain, replay, fuzz or compat"
                        ),
                    );
                    HardenKind::Plain
                }
            };
            if harden.kind != HardenKind::Plain && !in_harden {
                self.error(
                    kind,
                    format!("kind `{}` is for harden jobs", kind.get_ref()),
                )
                .help = Some("set stage = \"harden\"".into());
            }
        }
        if let Some(schedule) = &raw.schedule {
            if !in_harden {
                self.error(
                    schedule,
                    "`schedule` is for harden jobs; other stages run on events (PRs, staging)",
                );
            } else if let Err(why) = crate::harden::Schedule::parse(schedule.get_ref()) {
                self.error(schedule, why);
            }
            harden.schedule = Some(schedule.get_ref().clone());
        }
        if let Some(expect) = &raw.expect {
            for pointer in expect.get_ref().keys() {
                if !(pointer.is_empty() || pointer.starts_with('/')) {
                    self.error(
                        expect,
                        format!("`{pointer}` is not a JSON pointer: it must start with `/`"),
                    );
                }
            }
            harden.expect = expect.get_ref().clone();
        }
        let fixture_expects = raw.fixture.as_ref().is_some_and(|id| {
            self.fixtures
                .iter()
                .any(|f| f.id == *id.get_ref() && !f.expect.is_empty())
        });
        if harden.kind == HardenKind::Replay && harden.expect.is_empty() && !fixture_expects {
            self.error(
                &raw.name,
                format!("replay job `{}` has no `expect` table", raw.name.get_ref()),
            )
            .help = Some(
                "add expect = { \"/height\" = 100 } with the values the replay must reach".into(),
            );
        }
        if let Some(output) = &raw.output {
            self.relative_path("output path", output);
            harden.output = Some(output.get_ref().clone());
        }
        if let Some(fixture) = &raw.fixture {
            if !in_harden {
                self.error(fixture, "`fixture` is for harden jobs");
            } else if !self.fixtures.iter().any(|f| f.id == *fixture.get_ref()) {
                let ids: Vec<&str> = self.fixtures.iter().map(|f| f.id.as_str()).collect();
                self.error(
                    fixture,
                    format!("no [[fixture]] with id `{}`", fixture.get_ref()),
                )
                .help = Some(if ids.is_empty() {
                    "declare it in a [[fixture]] table".to_owned()
                } else {
                    format!("the fixtures are: {}", ids.join(", "))
                });
            }
            harden.fixture = Some(fixture.get_ref().clone());
        }
        for release in &raw.releases {
            match self.fixtures.iter().find(|f| f.id == *release.get_ref()) {
                Some(f) if f.kind == crate::fixture::FixtureKind::PreviousRelease => {}
                Some(f) => {
                    self.error(release, format!(
                        "fixture `{}` is a {} fixture; compat releases must be previous-release fixtures",
                        f.id,
                        f.kind.as_str()
                    ));
                }
                None => {
                    self.error(
                        release,
                        format!("no [[fixture]] with id `{}`", release.get_ref()),
                    );
                }
            }
            harden.releases.push(release.get_ref().clone());
        }
        if harden.kind == HardenKind::Compat && harden.releases.is_empty() && in_harden {
            self.error(
                &raw.name,
                format!("compat job `{}` lists no `releases`", raw.name.get_ref()),
            )
            .help = Some("add releases = [\"<previous-release fixture id>\", ...]".into());
        }
        match (&raw.fuzz, harden.kind) {
            (Some(fuzz), HardenKind::Fuzz) => {
                let settings = fuzz.get_ref();
                self.relative_path("fuzz binary", &settings.binary);
                for target in &settings.targets {
                    if let Err(why) = check_name(target.get_ref()) {
                        self.error(target, format!("invalid fuzz target: {why}"));
                    }
                }
                if let Some(corpus) = &settings.corpus {
                    match self.fixtures.iter().find(|f| f.id == *corpus.get_ref()) {
                        Some(f) if f.kind == crate::fixture::FixtureKind::FuzzCorpus => {}
                        Some(f) => {
                            self.error(
                                corpus,
                                format!(
                                    "fixture `{}` is a {} fixture, not a fuzz-corpus",
                                    f.id,
                                    f.kind.as_str()
                                ),
                            );
                        }
                        None => {
                            self.error(
                                corpus,
                                format!("no [[fixture]] with id `{}`", corpus.get_ref()),
                            );
                        }
                    }
                }
                harden.fuzz = Some(FuzzSettings {
                    binary: settings.binary.get_ref().clone(),
                    targets: settings
                        .targets
                        .iter()
                        .map(|t| t.get_ref().clone())
                        .collect(),
                    budget: self.duration(&settings.budget, Duration::from_secs(60)),
                    input_timeout: self.duration(&settings.input_timeout, Duration::from_secs(25)),
                    rss_limit_mb: settings.rss_limit_mb.unwrap_or(2560),
                    corpus: settings.corpus.as_ref().map(|c| c.get_ref().clone()),
                });
            }
            (Some(fuzz), _) => {
                self.error(fuzz, "the `fuzz` table is for fuzz jobs (kind = \"fuzz\")");
            }
            (None, HardenKind::Fuzz) if in_harden => {
                self.error(
                    &raw.name,
                    format!("fuzz job `{}` has no `fuzz` table", raw.name.get_ref()),
                )
                .help = Some("add fuzz = { binary = \"build/fuzz\", budget = \"60s\" }".into());
            }
            _ => {}
        }
        if !raw.releases.is_empty() && harden.kind != HardenKind::Compat {
            self.error(
                &raw.releases[0],
                "`releases` is for compat jobs (kind = \"compat\")",
            );
        }
        harden
    }

    fn toolstate(
        &mut self,
        raw: RawToolstate,
        jobs: &[Job],
    ) -> crate::toolstate::ToolstateSettings {
        let mut settings = crate::toolstate::ToolstateSettings {
            window: Duration::from_secs(14 * 86_400),
            ..Default::default()
        };
        for component in raw.stable {
            if !jobs
                .iter()
                .any(|j| j.toolstate.as_deref() == Some(component.get_ref().as_str()))
            {
                self.error(
                    &component,
                    format!(
                        "no job declares toolstate component `{}`",
                        component.get_ref()
                    ),
                )
                .help =
                    Some("add `toolstate = \"NAME\"` to the job that builds and tests it".into());
            }
            settings.stable.push(component.into_inner());
        }
        for date in raw.release_dates {
            match crate::toolstate::parse_date(date.get_ref()) {
                Ok(ms) => settings.release_dates.push(ms),
                Err(why) => {
                    self.error(&date, why);
                }
            }
        }
        if let Some(window) = raw.window {
            match duration::parse(window.get_ref()) {
                Ok(d) => settings.window = d,
                Err(why) => {
                    self.error(&window, why);
                }
            }
        }
        settings
    }

    fn queue(&mut self, raw: RawQueue) -> QueueSettings {
        let mut settings = QueueSettings::default();
        if let Some(mode) = &raw.mode {
            match mode.get_ref().as_str() {
                "post-merge" => settings.mode = QueueMode::PostMerge,
                "gated" => settings.mode = QueueMode::Gated,
                other => {
                    self.error(
                        mode,
                        format!(
                            "unknown queue mode `{other}`; expected \"post-merge\" or \"gated\""
                        ),
                    );
                }
            }
        }
        if let Some(policy) = raw.policy {
            if !QUEUE_POLICIES.contains(&policy.get_ref().as_str()) {
                self.error(
                    &policy,
                    format!(
                        "unknown queue policy `{}`; expected one of {}",
                        policy.get_ref(),
                        QUEUE_POLICIES.join(", ")
                    ),
                );
            }
            settings.policy = policy.into_inner();
        }
        let count =
            |this: &mut Self, value: &Option<Spanned<i64>>, what: &str, min: i64| -> Option<i64> {
                let value = value.as_ref()?;
                if *value.get_ref() < min {
                    this.error(value, format!("`{what}` must be at least {min}"));
                    return None;
                }
                Some(*value.get_ref())
            };
        if let Some(n) = count(self, &raw.builders, "builders", 1) {
            settings.builders = n as usize;
        }
        if let Some(n) = count(self, &raw.max_batch, "max-batch", 1) {
            settings.max_batch = n as usize;
        }
        if let Some(n) = count(self, &raw.flake_budget, "flake-budget", 0) {
            settings.flake_budget = n as u32;
        }
        for (field, value) in [
            (&mut settings.ready_label, raw.ready_label),
            (&mut settings.staging, raw.staging),
            (&mut settings.target, raw.target),
        ] {
            if let Some(value) = value {
                if value.get_ref().trim().is_empty() || value.get_ref().starts_with('-') {
                    self.error(
                        &value,
                        "expected a non-empty name that does not start with `-`",
                    );
                }
                *field = value.into_inner();
            }
        }
        if settings.staging == settings.target {
            self.problems.push(Diagnostic::at(
                self.file,
                self.source,
                None,
                format!(
                    "[queue] staging and target are both `{}`; they must be different branches",
                    settings.staging
                ),
            ));
        }
        if let Some(ff) = raw.fast_forward_target {
            settings.fast_forward_target = ff;
        }
        settings
    }

    fn project(&mut self, raw: RawProject) -> Project {
        if let Err(why) = check_name(raw.id.get_ref()) {
            self.error(&raw.id, format!("invalid project id: {why}"));
        }
        let source = match raw.source {
            Some(source) => {
                if source.get_ref().trim().is_empty() {
                    self.error(&source, "project source must not be empty").help = Some(
                        "leave `source` out to use the repository the adapter lives in".into(),
                    );
                }
                source.into_inner()
            }
            None => ".".to_owned(),
        };
        Project {
            id: raw.id.into_inner(),
            source,
            description: raw.description,
        }
    }

    fn stage(&mut self, name: &Spanned<String>) -> Option<Stage> {
        match name.get_ref().parse::<Stage>() {
            Ok(stage) => Some(stage),
            Err(err) => {
                self.error(name, err.to_string());
                None
            }
        }
    }

    fn policy(&mut self, raw: &RawStages) -> StagePolicy {
        let mut policy = StagePolicy::default();
        let mut enabled = HashMap::new();
        for name in &raw.enable {
            if let Some(stage) = self.stage(name) {
                enabled.insert(stage, ());
                policy.set(stage, true);
            }
        }
        for name in &raw.disable {
            if let Some(stage) = self.stage(name) {
                if enabled.contains_key(&stage) {
                    self.error(
                        name,
                        format!("stage `{stage}` is both enabled and disabled"),
                    )
                    .help = Some("name each stage in at most one of `enable` and `disable`".into());
                }
                policy.set(stage, false);
            }
        }
        policy
    }

    fn duration(&mut self, raw: &Option<Spanned<String>>, default: Duration) -> Duration {
        match raw {
            None => default,
            Some(text) => match duration::parse(text.get_ref()) {
                Ok(d) => d,
                Err(why) => {
                    self.error(text, why);
                    default
                }
            },
        }
    }

    fn relative_path(&mut self, what: &str, path: &Spanned<String>) {
        if let Err(why) = check_relative_path(path.get_ref()) {
            self.error(path, format!("{what} `{}` {why}", path.get_ref()))
                .help = Some("paths are relative to the job's checkout and stay inside it".into());
        }
    }

    fn jobs(&mut self, raw_jobs: Vec<Spanned<RawJob>>) -> Vec<Job> {
        let mut jobs = Vec::with_capacity(raw_jobs.len());
        let mut seen: HashMap<String, usize> = HashMap::new();
        // Kept for the second pass over `needs`, which must see every job.
        let mut needs_spans = Vec::with_capacity(raw_jobs.len());

        for spanned in raw_jobs {
            let job_span = spanned.span();
            let raw = spanned.into_inner();
            let name = raw.name.get_ref().clone();
            if let Err(why) = check_name(&name) {
                self.error(&raw.name, format!("invalid job name: {why}"));
            }
            if let Some(first) = seen.get(&name) {
                let first_line = self.problems_line(*first);
                self.error(&raw.name, format!("duplicate job name `{name}`"))
                    .help = Some(format!(
                    "the first job with this name is at line {first_line}; job names must be unique"
                ));
            } else {
                seen.insert(name.clone(), job_span.start);
            }
            let stage = self.stage(&raw.stage);

            let command = match (&raw.run, &raw.script) {
                (Some(run), None) => {
                    if run.get_ref().is_empty() || run.get_ref()[0].is_empty() {
                        self.error(run, "`run` must name a program: expected a non-empty argv vector such as [\"make\", \"test\"]");
                    }
                    JobCommand::Argv(run.get_ref().clone())
                }
                (None, Some(script)) => {
                    if script.get_ref().trim().is_empty() {
                        self.error(script, "`script` must not be empty");
                    }
                    JobCommand::Script(script.get_ref().clone())
                }
                (Some(_), Some(script)) => {
                    self.error(script, format!("job `{name}` has both `run` and `script`"))
                        .help =
                        Some("keep one: `run` is an argv vector, `script` a shell script".into());
                    JobCommand::Script(String::new())
                }
                (None, None) => {
                    self.error(
                        &raw.name,
                        format!("job `{name}` has neither `run` nor `script`"),
                    )
                    .help = Some("add run = [\"program\", \"arg\"] or script = \"...\"".into());
                    JobCommand::Script(String::new())
                }
            };

            let timeout = self.duration(&raw.timeout, DEFAULT_TIMEOUT);
            let grace = self.duration(&raw.grace, DEFAULT_GRACE);

            if let Some(env) = &raw.env {
                for key in env.get_ref().keys() {
                    if let Err(why) = check_env_name(key) {
                        self.error(env, format!("environment variable `{key}` {why}"));
                    }
                }
                if env.get_ref().values().any(|v| v.contains('\0')) {
                    self.error(env, "environment values must not contain NUL bytes");
                }
            }
            for key in &raw.pass_env {
                if let Err(why) = check_env_name(key.get_ref()) {
                    self.error(
                        key,
                        format!("environment variable `{}` {why}", key.get_ref()),
                    );
                }
            }
            for artifact in &raw.artifacts {
                self.relative_path("artifact glob", artifact);
                if let Err(err) = glob_syntax(artifact.get_ref()) {
                    self.error(
                        artifact,
                        format!("artifact glob `{}` is malformed: {err}", artifact.get_ref()),
                    );
                }
            }
            if let Some(junit) = &raw.results.junit {
                self.relative_path("results.junit path", junit);
            }

            let harden = self.harden_job(&raw, stage);
            let toolstate = match raw.toolstate {
                Some(component) => {
                    if let Err(why) = check_name(component.get_ref()) {
                        self.error(&component, format!("invalid toolstate component: {why}"));
                    } else if let Some(other) = jobs.iter().find(|j: &&Job| {
                        j.toolstate.as_deref() == Some(component.get_ref().as_str())
                    }) {
                        self.error(
                            &component,
                            format!(
                                "toolstate component `{}` is already job `{}`'s",
                                component.get_ref(),
                                other.name
                            ),
                        );
                    }
                    Some(component.into_inner())
                }
                None => None,
            };
            needs_spans.push(raw.needs.clone());
            jobs.push(Job {
                name,
                stage: stage.unwrap_or(Stage::Spark),
                command,
                // A component allowed to fail never gates directly; its
                // regressions are judged by the toolstate rules.
                gate: if toolstate.is_some() {
                    Gate::Observe
                } else {
                    raw.gate
                },
                timeout,
                grace,
                env: raw.env.map(Spanned::into_inner).unwrap_or_default(),
                pass_env: raw.pass_env.into_iter().map(Spanned::into_inner).collect(),
                needs: raw.needs.into_iter().map(Spanned::into_inner).collect(),
                artifacts: raw.artifacts.into_iter().map(Spanned::into_inner).collect(),
                junit: raw.results.junit.map(Spanned::into_inner),
                optional: raw.optional,
                toolstate,
                harden,
                description: raw.description,
            });
        }

        self.needs(&jobs, &needs_spans);
        jobs
    }

    /// Line number of a byte offset, for "first defined at" hints.
    fn problems_line(&self, offset: usize) -> usize {
        crate::diagnostic::line_column(self.source, offset).0
    }

    fn needs(&mut self, jobs: &[Job], spans: &[Vec<Spanned<String>>]) {
        let index: HashMap<&str, usize> = jobs
            .iter()
            .enumerate()
            .map(|(i, job)| (job.name.as_str(), i))
            .rev() // the first of duplicate names wins
            .collect();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); jobs.len()];

        for (i, job) in jobs.iter().enumerate() {
            let mut listed = Vec::new();
            for target in &spans[i] {
                let name = target.get_ref().as_str();
                if listed.contains(&name) {
                    self.error(
                        target,
                        format!("job `{}` lists `{name}` in `needs` twice", job.name),
                    );
                    continue;
                }
                listed.push(name);
                let Some(&t) = index.get(name) else {
                    let hint = suggest(name, jobs.iter().map(|j| j.name.as_str()))
                        .map(|s| format!(" (did you mean `{s}`?)"))
                        .unwrap_or_default();
                    self.error(
                        target,
                        format!("job `{}` needs unknown job `{name}`{hint}", job.name),
                    );
                    continue;
                };
                let other = &jobs[t];
                if t == i {
                    self.error(target, format!("job `{name}` needs itself"));
                } else if other.stage != job.stage {
                    self.error(target, format!(
                        "job `{}` (stage {}) needs `{name}` of stage {}; `needs` works within one stage",
                        job.name, job.stage, other.stage
                    )).help = Some("stages run in order already; a later stage only runs on a commit the earlier ones judged".into());
                } else if job.gate == Gate::Required && other.gate == Gate::Observe {
                    self.error(target, format!(
                        "required job `{}` needs observe job `{name}`: an observe job would then gate the stage",
                        job.name
                    )).help = Some(format!("make `{name}` required, or `{}` observe", job.name));
                } else if !job.optional && other.optional {
                    self.error(
                        target,
                        format!(
                            "job `{}` needs optional job `{name}`, which only runs when asked for",
                            job.name
                        ),
                    )
                    .help = Some(format!(
                        "make `{}` optional too, or `{name}` not optional",
                        job.name
                    ));
                } else {
                    edges[i].push(t);
                }
            }
        }

        if let Some(cycle) = find_cycle(&edges) {
            let names: Vec<&str> = cycle.iter().map(|&i| jobs[i].name.as_str()).collect();
            let first = cycle[0];
            let second = cycle[1];
            let span = spans[first]
                .iter()
                .find(|t| t.get_ref() == &jobs[second].name)
                .expect("an edge comes from a listed need");
            self.error(
                span,
                format!("`needs` forms a cycle: {}", names.join(" -> ")),
            )
            .help = Some("`needs` must be a DAG: remove one of these dependencies".into());
        }
    }
}

/// A cycle in a graph of `needs` edges, as a path whose first and last nodes
/// are the same, or `None` for a DAG.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    fn visit(
        node: usize,
        edges: &[Vec<usize>],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        marks[node] = Mark::OnPath;
        path.push(node);
        for &next in &edges[node] {
            match marks[next] {
                Mark::OnPath => {
                    let start = path.iter().position(|&n| n == next).expect("on path");
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next);
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, edges, marks, path) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        path.pop();
        marks[node] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; edges.len()];
    (0..edges.len()).find_map(|start| {
        if marks[start] == Mark::New {
            visit(start, edges, &mut marks, &mut Vec::new())
        } else {
            None
        }
    })
}

/// Names end up in file paths and URLs, so they are restricted.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("expected a non-empty name".into()),
        Some(c) if !c.is_ascii_alphanumeric() => {
            return Err(format!("`{name}` must start with a letter or digit"));
        }
        _ => {}
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "`{name}` contains `{bad}`; use letters, digits, `-`, `_` and `.`"
        ));
    }
    if name.len() > 100 {
        return Err("names are at most 100 characters".into());
    }
    Ok(())
}

fn check_env_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(
            "is not a valid name: use letters, digits and `_`, not starting with a digit".into(),
        );
    }
    if name.starts_with(RESERVED_ENV_PREFIX) {
        return Err(format!(
            "is reserved: Ironworks sets `{RESERVED_ENV_PREFIX}*` variables itself"
        ));
    }
    Ok(())
}

/// A path inside a checkout: relative, and no `..` that could climb out of it.
pub fn check_relative_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("is empty".into());
    }
    if path.starts_with('/') {
        return Err("is absolute".into());
    }
    if path.split('/').any(|part| part == "..") {
        return Err("escapes the checkout with `..`".into());
    }
    if path.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    Ok(())
}

/// Syntax check of a glob (`*`, `**`, `?`, `[...]`), so a typo is caught when
/// the adapter is loaded rather than after a long job.
fn glob_syntax(pattern: &str) -> Result<(), String> {
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                if chars.peek() == Some(&'!') || chars.peek() == Some(&'^') {
                    chars.next();
                }
                // A `]` right after `[` is a literal member.
                if chars.peek() == Some(&']') {
                    chars.next();
                }
                if !chars.by_ref().any(|c| c == ']') {
                    return Err("unclosed `[`".into());
                }
            }
            '*' => {
                let mut stars = 1;
                while chars.peek() == Some(&'*') {
                    chars.next();
                    stars += 1;
                }
                if stars > 2 {
                    return Err("more than two `*` in a row".into());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

mod duration_ms {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

#[cfg(test)]
mod tests;

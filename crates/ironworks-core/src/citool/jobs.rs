//! The typed jobs file and its rules.
//!
//! A jobs file has `envs` (shared environments of the `pr`, `try` and `auto`
//! run types) and four job lists. Loading it checks what rust-lang's citool
//! checks, with positions: unknown keys, job names unique per section, every
//! PR job also in `auto` (registered there if absent) and agreeing with its
//! auto twin in everything but `env` and `continue_on_error`, no auto job with
//! `continue_on_error: true`.

use std::collections::BTreeMap;

use super::error::{CitoolError, Location, Pos};
use super::yaml::{self, Entry, Node, Scalar, Value};

/// One environment variable's value, with its YAML type kept (1 stays a
/// number, "0" stays a string) so the JSON matrix carries it unchanged.
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl serde::Serialize for EnvValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EnvValue::Null => serializer.serialize_unit(),
            EnvValue::Bool(b) => serializer.serialize_bool(*b),
            EnvValue::Int(i) => serializer.serialize_i64(*i),
            EnvValue::Float(f) => serializer.serialize_f64(*f),
            EnvValue::Str(s) => serializer.serialize_str(s),
        }
    }
}

/// Environment variables, sorted by name.
pub type Env = BTreeMap<String, EnvValue>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Pr,
    Try,
    Auto,
    Optional,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Pr => "pr",
            Section::Try => "try",
            Section::Auto => "auto",
            Section::Optional => "optional",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub name: String,
    /// The GitHub runner label; may contain `$github.run_id` and
    /// `$github.run_attempt`.
    pub os: String,
    pub env: Env,
    pub only_on_channel: Option<String>,
    pub continue_on_error: Option<bool>,
    pub free_disk: Option<bool>,
    pub doc_url: Option<String>,
    pub codebuild: Option<bool>,
    /// Where the job is written (for an auto-registered PR job: the PR job).
    pub pos: Pos,
    /// True for a PR job copied into `auto` because `auto` had no job of
    /// that name.
    pub auto_registered: bool,
}

/// The shared environments, one per run type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RunEnvs {
    pub pr: Env,
    pub try_: Env,
    pub auto: Env,
}

/// A loaded and validated jobs file.
#[derive(Debug, Clone, PartialEq)]
pub struct JobsFile {
    pub envs: RunEnvs,
    pub pr: Vec<Job>,
    pub try_: Vec<Job>,
    /// Includes the auto-registered PR jobs, after the written ones.
    pub auto: Vec<Job>,
    pub optional: Vec<Job>,
}

const TOP_KEYS: &[&str] = &["runners", "envs", "pr", "try", "auto", "optional"];
const JOB_KEYS: &[&str] = &[
    "name",
    "os",
    "env",
    "only_on_channel",
    "continue_on_error",
    "free_disk",
    "doc_url",
    "codebuild",
];

impl JobsFile {
    /// Parse and validate a jobs file; `file` names it in messages.
    pub fn load(text: &str, file: &str) -> Result<JobsFile, CitoolError> {
        let root = yaml::compose(text, file)?;
        let decoder = Decoder { file };
        let mut db = decoder.jobs_file(&root)?;
        db.validate_and_register(file)?;
        Ok(db)
    }

    pub fn auto_job(&self, name: &str) -> Option<&Job> {
        self.auto.iter().find(|j| j.name == name)
    }

    fn validate_and_register(&mut self, file: &str) -> Result<(), CitoolError> {
        let at = |pos| Location {
            file: file.to_string(),
            pos,
        };
        for (section, jobs) in [
            (Section::Pr, &self.pr),
            (Section::Try, &self.try_),
            (Section::Auto, &self.auto),
            (Section::Optional, &self.optional),
        ] {
            for (i, job) in jobs.iter().enumerate() {
                if let Some(first) = jobs[..i].iter().find(|j| j.name == job.name) {
                    return Err(CitoolError::DuplicateJob {
                        at: at(job.pos),
                        section: section.as_str(),
                        name: job.name.clone(),
                        first_line: first.pos.line,
                    });
                }
            }
        }

        // A PR job that `auto` lacks is added to it, failing fast: a PR job
        // that is red on master would otherwise turn every later PR red.
        for pr_job in &self.pr {
            if self.auto.iter().any(|j| j.name == pr_job.name) {
                continue;
            }
            self.auto.push(Job {
                continue_on_error: Some(false),
                auto_registered: true,
                ..pr_job.clone()
            });
        }

        for pr_job in &self.pr {
            let Some(auto_job) = self.auto_job(&pr_job.name) else {
                unreachable!("every PR job was registered into auto above");
            };
            if let Some((field, pr_value, auto_value)) = first_difference(pr_job, auto_job) {
                return Err(CitoolError::PrAutoMismatch {
                    at: at(pr_job.pos),
                    name: pr_job.name.clone(),
                    field,
                    auto_line: auto_job.pos.line,
                    pr_value: pr_value.into(),
                    auto_value: auto_value.into(),
                });
            }
        }

        if let Some(job) = self.auto.iter().find(|j| j.continue_on_error == Some(true)) {
            return Err(CitoolError::AutoContinueOnError {
                at: at(job.pos),
                name: job.name.clone(),
            });
        }
        Ok(())
    }
}

/// The first field, other than `env` and `continue_on_error`, in which a PR
/// job and its auto twin differ: (field, PR value, auto value).
fn first_difference(pr: &Job, auto: &Job) -> Option<(&'static str, String, String)> {
    fn show<T: std::fmt::Debug>(value: &Option<T>) -> String {
        match value {
            Some(v) => format!("{v:?}"),
            None => "unset".to_string(),
        }
    }
    if pr.os != auto.os {
        return Some(("os", format!("{:?}", pr.os), format!("{:?}", auto.os)));
    }
    if pr.only_on_channel != auto.only_on_channel {
        let (p, a) = (show(&pr.only_on_channel), show(&auto.only_on_channel));
        return Some(("only_on_channel", p, a));
    }
    if pr.free_disk != auto.free_disk {
        return Some(("free_disk", show(&pr.free_disk), show(&auto.free_disk)));
    }
    if pr.doc_url != auto.doc_url {
        return Some(("doc_url", show(&pr.doc_url), show(&auto.doc_url)));
    }
    if pr.codebuild != auto.codebuild {
        return Some(("codebuild", show(&pr.codebuild), show(&auto.codebuild)));
    }
    None
}

struct Decoder<'a> {
    file: &'a str,
}

impl Decoder<'_> {
    fn at(&self, pos: Pos) -> Location {
        Location {
            file: self.file.to_string(),
            pos,
        }
    }

    fn wrong(&self, node: &Node, what: &str, expected: &'static str) -> CitoolError {
        CitoolError::WrongType {
            at: self.at(node.pos),
            what: what.to_string(),
            expected,
            found: node.kind(),
        }
    }

    fn mapping<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Entry], CitoolError> {
        match &node.value {
            Value::Map(entries) => Ok(entries),
            // `pr:` with nothing after it is an empty section, as in citool.
            Value::Scalar(Scalar::Null) => Ok(&[]),
            _ => Err(self.wrong(node, what, "a mapping")),
        }
    }

    fn sequence<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Node], CitoolError> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            Value::Scalar(Scalar::Null) => Ok(&[]),
            _ => Err(self.wrong(node, what, "a list")),
        }
    }

    fn string(&self, node: &Node, what: &str) -> Result<String, CitoolError> {
        match &node.value {
            Value::Scalar(Scalar::Str(s)) => Ok(s.clone()),
            _ => Err(self.wrong(node, what, "a string")),
        }
    }

    fn opt_string(&self, node: &Node, what: &str) -> Result<Option<String>, CitoolError> {
        match &node.value {
            Value::Scalar(Scalar::Null) => Ok(None),
            _ => self.string(node, what).map(Some),
        }
    }

    fn opt_bool(&self, node: &Node, what: &str) -> Result<Option<bool>, CitoolError> {
        match &node.value {
            Value::Scalar(Scalar::Null) => Ok(None),
            Value::Scalar(Scalar::Bool(b)) => Ok(Some(*b)),
            _ => Err(self.wrong(node, what, "`true` or `false`")),
        }
    }

    fn unknown(&self, entry: &Entry, what: &str, allowed: &[&str]) -> CitoolError {
        CitoolError::UnknownKey {
            at: self.at(entry.key_pos),
            what: what.to_string(),
            key: entry.key.clone(),
            expected: allowed
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn missing(&self, node: &Node, what: &str, key: &'static str) -> CitoolError {
        CitoolError::MissingKey {
            at: self.at(node.pos),
            what: what.to_string(),
            key,
        }
    }

    fn jobs_file(&self, root: &Node) -> Result<JobsFile, CitoolError> {
        let entries = self.mapping(root, "the jobs file")?;
        let mut envs = None;
        let mut lists: [Option<Vec<Job>>; 4] = [None, None, None, None];
        for entry in entries {
            match entry.key.as_str() {
                // Holds anchors for the jobs; citool ignores its content.
                "runners" => {}
                "envs" => envs = Some(self.envs(&entry.value)?),
                "pr" => lists[0] = Some(self.jobs(&entry.value, Section::Pr)?),
                "try" => lists[1] = Some(self.jobs(&entry.value, Section::Try)?),
                "auto" => lists[2] = Some(self.jobs(&entry.value, Section::Auto)?),
                "optional" => lists[3] = Some(self.jobs(&entry.value, Section::Optional)?),
                _ => return Err(self.unknown(entry, "top level", TOP_KEYS)),
            }
        }
        let envs = envs.ok_or_else(|| self.missing(root, "top level", "envs"))?;
        let [pr, try_, auto, optional] = lists;
        Ok(JobsFile {
            envs,
            pr: pr.ok_or_else(|| self.missing(root, "top level", "pr"))?,
            try_: try_.ok_or_else(|| self.missing(root, "top level", "try"))?,
            auto: auto.ok_or_else(|| self.missing(root, "top level", "auto"))?,
            optional: optional.ok_or_else(|| self.missing(root, "top level", "optional"))?,
        })
    }

    fn envs(&self, node: &Node) -> Result<RunEnvs, CitoolError> {
        let (mut pr, mut try_, mut auto) = (None, None, None);
        for entry in self.mapping(node, "`envs`")? {
            match entry.key.as_str() {
                "pr" => pr = Some(self.env(&entry.value, "`envs.pr`")?),
                "try" => try_ = Some(self.env(&entry.value, "`envs.try`")?),
                "auto" => auto = Some(self.env(&entry.value, "`envs.auto`")?),
                // Other keys hold anchors (`production: &production ...`),
                // as in rust-lang's own jobs file.
                _ => {}
            }
        }
        Ok(RunEnvs {
            pr: pr.ok_or_else(|| self.missing(node, "`envs`", "pr"))?,
            try_: try_.ok_or_else(|| self.missing(node, "`envs`", "try"))?,
            auto: auto.ok_or_else(|| self.missing(node, "`envs`", "auto"))?,
        })
    }

    fn env(&self, node: &Node, what: &str) -> Result<Env, CitoolError> {
        let mut env = Env::new();
        for entry in self.mapping(node, what)? {
            let bad = |problem| CitoolError::BadEnvValue {
                at: self.at(entry.value.pos),
                key: entry.key.clone(),
                problem,
            };
            let value = match &entry.value.value {
                Value::Scalar(Scalar::Null) => EnvValue::Null,
                Value::Scalar(Scalar::Bool(b)) => EnvValue::Bool(*b),
                Value::Scalar(Scalar::Int(i)) => EnvValue::Int(*i),
                Value::Scalar(Scalar::Float(f)) if f.is_finite() => EnvValue::Float(*f),
                Value::Scalar(Scalar::Float(_)) => {
                    return Err(bad("infinity and NaN have no JSON form"));
                }
                Value::Scalar(Scalar::Str(s)) => EnvValue::Str(s.clone()),
                Value::Seq(_) => return Err(bad("a list is not an environment value")),
                Value::Map(_) => return Err(bad("a mapping is not an environment value")),
            };
            env.insert(entry.key.clone(), value);
        }
        Ok(env)
    }

    fn jobs(&self, node: &Node, section: Section) -> Result<Vec<Job>, CitoolError> {
        let what = format!("`{}`", section.as_str());
        self.sequence(node, &what)?
            .iter()
            .enumerate()
            .map(|(i, item)| self.job(item, section, i + 1))
            .collect()
    }

    fn job(&self, node: &Node, section: Section, index: usize) -> Result<Job, CitoolError> {
        let mut what = format!("job #{index} of `{}`", section.as_str());
        let entries = match &node.value {
            Value::Map(entries) => entries,
            _ => return Err(self.wrong(node, &what, "a mapping")),
        };
        let field = |key: &str| entries.iter().find(|e| e.key == key).map(|e| &e.value);
        let name_node = field("name").ok_or_else(|| self.missing(node, &what, "name"))?;
        let name = self.string(name_node, &format!("{what}: `name`"))?;
        what = format!("job `{name}` in `{}`", section.as_str());
        let ctx = |key: &str| format!("{what}: `{key}`");

        if let Some(entry) = entries.iter().find(|e| !JOB_KEYS.contains(&e.key.as_str())) {
            return Err(self.unknown(entry, &what, JOB_KEYS));
        }
        let os_node = field("os").ok_or_else(|| self.missing(node, &what, "os"))?;
        let env_node = field("env").ok_or_else(|| self.missing(node, &what, "env"))?;
        let opt_string = |key: &str| match field(key) {
            Some(n) => self.opt_string(n, &ctx(key)),
            None => Ok(None),
        };
        let opt_bool = |key: &str| match field(key) {
            Some(n) => self.opt_bool(n, &ctx(key)),
            None => Ok(None),
        };
        Ok(Job {
            os: self.string(os_node, &ctx("os"))?,
            env: self.env(env_node, &ctx("env"))?,
            only_on_channel: opt_string("only_on_channel")?,
            continue_on_error: opt_bool("continue_on_error")?,
            free_disk: opt_bool("free_disk")?,
            doc_url: opt_string("doc_url")?,
            codebuild: opt_bool("codebuild")?,
            name,
            pos: node.pos,
            auto_registered: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "envs:\n  pr: {}\n  try: {}\n  auto: {}\n";

    fn load(body: &str) -> Result<JobsFile, CitoolError> {
        JobsFile::load(&format!("{BASE}{body}"), "jobs.yml")
    }

    fn names(jobs: &[Job]) -> Vec<&str> {
        jobs.iter().map(|j| j.name.as_str()).collect()
    }

    #[test]
    fn minimal_file_with_null_sections() {
        let db = load("pr:\ntry:\nauto:\noptional:\n").unwrap();
        assert!(db.pr.is_empty() && db.try_.is_empty() && db.auto.is_empty());
    }

    #[test]
    fn missing_sections_are_named() {
        let err =
            JobsFile::load("envs: {pr: {}, try: {}, auto: {}}\npr: []\n", "j.yml").unwrap_err();
        assert!(
            matches!(err, CitoolError::MissingKey { key: "try", .. }),
            "{err}"
        );
        let err = JobsFile::load("pr: []\ntry: []\nauto: []\noptional: []\n", "j.yml").unwrap_err();
        assert!(
            matches!(err, CitoolError::MissingKey { key: "envs", .. }),
            "{err}"
        );
        let err = JobsFile::load(
            "envs: {pr: {}}\npr: []\ntry: []\nauto: []\noptional: []\n",
            "j.yml",
        )
        .unwrap_err();
        assert!(
            matches!(err, CitoolError::MissingKey { key: "try", .. }),
            "{err}"
        );
    }

    #[test]
    fn unknown_job_key_rejected_with_position() {
        let err = load(
            "pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    os: ubuntu\n    env: {}\n    free_disks: true\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "jobs.yml:12:5: job `a` in `auto`: unknown key `free_disks` (expected one of: `name`, `os`, `env`, `only_on_channel`, `continue_on_error`, `free_disk`, `doc_url`, `codebuild`)"
        );
    }

    #[test]
    fn unknown_key_through_a_merge_is_rejected() {
        let err = load(
            "runners:\n  - &r {os: ubuntu, env: {}, bogus: 1}\npr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    <<: *r\n",
        )
        .unwrap_err();
        assert!(
            matches!(&err, CitoolError::UnknownKey { key, .. } if key == "bogus"),
            "{err}"
        );
    }

    #[test]
    fn unknown_top_level_key_rejected() {
        let err = load("pr: []\ntry: []\nauto: []\noptional: []\njobs: []\n").unwrap_err();
        assert!(
            matches!(&err, CitoolError::UnknownKey { key, what, .. } if key == "jobs" && what == "top level"),
            "{err}"
        );
    }

    #[test]
    fn missing_required_job_fields() {
        let err =
            load("pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    os: x\n").unwrap_err();
        assert!(
            matches!(err, CitoolError::MissingKey { key: "env", .. }),
            "{err}"
        );
        assert!(err.help().contains("env: {}"));
        let err =
            load("pr: []\ntry: []\noptional: []\nauto:\n  - os: x\n    env: {}\n").unwrap_err();
        assert!(
            matches!(err, CitoolError::MissingKey { key: "name", .. }),
            "{err}"
        );
        let err =
            load("pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    env: {}\n").unwrap_err();
        assert!(
            matches!(err, CitoolError::MissingKey { key: "os", .. }),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        let err = load(
            "pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    os: x\n    env: {}\n    free_disk: yes\n",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "jobs.yml:12:16: job `a` in `auto`: `free_disk`: expected `true` or `false`, found a string"
        );
        let err =
            load("pr: []\ntry: []\noptional: []\nauto:\n  - name: 1\n    os: x\n    env: {}\n")
                .unwrap_err();
        assert!(
            matches!(
                err,
                CitoolError::WrongType {
                    found: "an integer",
                    ..
                }
            ),
            "{err}"
        );
        let err = load("pr: {}\ntry: []\noptional: []\nauto: []\n").unwrap_err();
        assert!(
            matches!(
                err,
                CitoolError::WrongType {
                    expected: "a list",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn env_values_keep_their_types_and_reject_collections() {
        let db = load(
            "pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    os: x\n    env: {A: 1, B: 11.0, C: \"0\", D: true, E: ~, F: text}\n",
        )
        .unwrap();
        let env = &db.auto[0].env;
        assert_eq!(env["A"], EnvValue::Int(1));
        assert_eq!(env["B"], EnvValue::Float(11.0));
        assert_eq!(env["C"], EnvValue::Str("0".into()));
        assert_eq!(env["D"], EnvValue::Bool(true));
        assert_eq!(env["E"], EnvValue::Null);
        assert_eq!(env["F"], EnvValue::Str("text".into()));
        let err = load(
            "pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    os: x\n    env: {A: [1]}\n",
        )
        .unwrap_err();
        assert!(matches!(err, CitoolError::BadEnvValue { .. }), "{err}");
        let err = load(
            "pr: []\ntry: []\noptional: []\nauto:\n  - name: a\n    os: x\n    env: {A: .inf}\n",
        )
        .unwrap_err();
        assert!(matches!(err, CitoolError::BadEnvValue { .. }), "{err}");
    }

    #[test]
    fn duplicate_names_per_section() {
        let job = |n: &str| format!("  - {{name: {n}, os: x, env: {{}}}}\n");
        let err = load(&format!(
            "pr: []\ntry: []\noptional: []\nauto:\n{}{}{}",
            job("a"),
            job("b"),
            job("a")
        ))
        .unwrap_err();
        assert_eq!(
            err,
            CitoolError::DuplicateJob {
                at: Location {
                    file: "jobs.yml".into(),
                    pos: Pos {
                        line: 11,
                        column: 5
                    }
                },
                section: "auto",
                name: "a".into(),
                first_line: 9
            }
        );
        // The same name in two sections is fine.
        load(&format!(
            "pr: []\ntry:\n{}optional:\n{}auto:\n{}",
            job("a"),
            job("a"),
            job("a")
        ))
        .unwrap();
        for section in ["pr", "try", "optional"] {
            let mut body = String::new();
            for s in ["pr", "try", "auto", "optional"] {
                if s == section {
                    body.push_str(&format!("{s}:\n{}{}", job("d"), job("d")));
                } else {
                    body.push_str(&format!("{s}: []\n"));
                }
            }
            let err = load(&body).unwrap_err();
            assert!(
                matches!(&err, CitoolError::DuplicateJob { section: s, .. } if *s == section),
                "{err}"
            );
        }
    }

    #[test]
    fn pr_jobs_are_registered_into_auto_failing_fast() {
        let db = load(
            "pr:\n  - {name: p, os: x, env: {A: 1}, continue_on_error: true}\n  - {name: both, os: x, env: {}}\ntry: []\noptional: []\nauto:\n  - {name: both, os: x, env: {B: 2}}\n  - {name: a, os: y, env: {}}\n",
        )
        .unwrap();
        assert_eq!(names(&db.auto), ["both", "a", "p"]);
        let p = db.auto_job("p").unwrap();
        assert_eq!(p.continue_on_error, Some(false));
        assert!(p.auto_registered);
        assert_eq!(p.env["A"], EnvValue::Int(1));
        // The explicit auto twin is kept as written.
        let both = db.auto_job("both").unwrap();
        assert!(!both.auto_registered);
        assert_eq!(both.env["B"], EnvValue::Int(2));
        // The PR job itself is unchanged.
        assert_eq!(db.pr[0].continue_on_error, Some(true));
    }

    #[test]
    fn pr_and_auto_twin_may_differ_only_in_env_and_continue_on_error() {
        let ok = load(
            "pr:\n  - {name: t, os: x, env: {A: 1}, continue_on_error: true, free_disk: true}\ntry: []\noptional: []\nauto:\n  - {name: t, os: x, env: {A: 2}, continue_on_error: false, free_disk: true}\n",
        );
        ok.unwrap();
        for (field, pr, auto) in [
            ("os", "os: x", "os: y"),
            ("free_disk", "os: x, free_disk: true", "os: x"),
            ("doc_url", "os: x, doc_url: a", "os: x, doc_url: b"),
            (
                "codebuild",
                "os: x, codebuild: true",
                "os: x, codebuild: false",
            ),
            (
                "only_on_channel",
                "os: x, only_on_channel: nightly",
                "os: x",
            ),
        ] {
            let err = load(&format!(
                "pr:\n  - {{name: t, env: {{}}, {pr}}}\ntry: []\noptional: []\nauto:\n  - {{name: t, env: {{}}, {auto}}}\n"
            ))
            .unwrap_err();
            assert!(
                matches!(&err, CitoolError::PrAutoMismatch { field: f, auto_line: 10, .. } if *f == field),
                "{field}: {err}"
            );
            assert!(
                err.to_string().starts_with("jobs.yml:6:5: PR job `t`"),
                "{err}"
            );
        }
    }

    #[test]
    fn auto_job_cannot_continue_on_error() {
        let err = load(
            "pr: []\ntry: []\noptional: []\nauto:\n  - {name: a, os: x, env: {}, continue_on_error: true}\n",
        )
        .unwrap_err();
        assert!(
            matches!(&err, CitoolError::AutoContinueOnError { name, .. } if name == "a"),
            "{err}"
        );
        // An explicit `false` is fine.
        load("pr: []\ntry: []\noptional: []\nauto:\n  - {name: a, os: x, env: {}, continue_on_error: false}\n")
            .unwrap();
    }
}

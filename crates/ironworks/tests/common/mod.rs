//! Helpers for end-to-end tests: a real git repository with an adapter, and
//! the real `ironworks` binary run against it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_ironworks");

/// A temporary project: a git repository whose root holds `ironworks.toml`.
pub struct Project {
    pub tmp: tempfile::TempDir,
}

impl Project {
    /// `adapter` may use `{TMP}` for the temp directory's path (outside the repository).
    pub fn new(adapter: &str, files: &[(&str, &str)]) -> Project {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project { tmp };
        fs::create_dir_all(project.repo()).unwrap();
        fs::create_dir_all(project.scratch()).unwrap();
        project.write("ironworks.toml", &project.expand(adapter));
        project.write(".gitignore", ".ironworks/\n");
        for (path, text) in files {
            project.write(path, &project.expand(text));
        }
        git(&project.repo(), &["init", "-q", "-b", "main"]);
        project.commit("initial");
        project
    }

    pub fn repo(&self) -> PathBuf {
        self.tmp.path().join("repo")
    }

    /// A directory outside the repository for jobs to leave markers in.
    pub fn scratch(&self) -> PathBuf {
        self.tmp.path().join("scratch")
    }

    pub fn expand(&self, text: &str) -> String {
        text.replace("{TMP}", &self.scratch().display().to_string())
    }

    pub fn write(&self, path: &str, text: &str) {
        let path = self.repo().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
    }

    pub fn commit(&self, message: &str) -> String {
        git(&self.repo(), &["add", "-A"]);
        git(
            &self.repo(),
            &[
                "-c",
                "user.name=T",
                "-c",
                "user.email=t@example.invalid",
                "commit",
                "-q",
                "-m",
                message,
            ],
        );
        git(&self.repo(), &["rev-parse", "HEAD"]).trim().to_owned()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(self.repo())
            .env_remove("IRONWORKS_STATE_DIR")
            .stdin(Stdio::null());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            text(&output)
        );
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&output)))
    }

    pub fn runs(&self) -> Vec<Value> {
        self.json(&["runs", "--json"]).as_array().unwrap().clone()
    }

    pub fn show(&self, run: i64) -> Value {
        self.json(&["show", &run.to_string(), "--json"])
    }

    /// The job record named `name` of a `show --json` document.
    pub fn job<'a>(&self, detail: &'a Value, name: &str) -> &'a Value {
        detail["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["job"] == name)
            .unwrap_or_else(|| panic!("no job {name} in {detail:#}"))
    }

    /// A pid a job wrote into the scratch directory.
    pub fn pid(&self, marker: &str) -> i32 {
        let text = fs::read_to_string(self.scratch().join(marker)).unwrap();
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("{marker}: {e}: {text:?}"))
    }

    /// Wait until a job has written `name` into the scratch directory; returns its content.
    pub fn wait_for_marker(&self, name: &str, child: &mut Child) -> String {
        let path = self.scratch().join(name);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(text) = fs::read_to_string(&path)
                && text.ends_with('\n')
            {
                return text.trim().to_owned();
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("ironworks exited ({status}) before {name} appeared");
            }
            assert!(Instant::now() < deadline, "{name} never appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {}", text(&output));
    String::from_utf8(output.stdout).unwrap()
}

pub fn text(output: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A process is gone when /proc no longer has it, or it is a zombie.
pub fn is_gone(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            state.starts_with('Z') || state.starts_with('X')
        }
    }
}

pub fn signal(pid: u32, signal: i32) {
    // SAFETY: plain syscall.
    unsafe {
        libc::kill(pid as i32, signal);
    }
}

/// An adapter with a project header and the given job tables.
pub fn adapter(jobs: &str) -> String {
    format!("[project]\nid = \"t\"\n\n{jobs}")
}

/// Create `branch` from main with `files` committed; back on main after.
pub fn branch(p: &Project, name: &str, files: &[(&str, &str)]) {
    git(&p.repo(), &["checkout", "-q", "-b", name, "main"]);
    for (path, text) in files {
        p.write(path, text);
    }
    p.commit(name);
    git(&p.repo(), &["checkout", "-q", "main"]);
}

/// Open a PR for `branch` (with `extra` options for `pr open`), approve it
/// and label it ready; returns its number.
pub fn ready_pr(p: &Project, branch: &str, extra: &[&str]) -> i64 {
    let mut args = vec!["pr", "open", "--head", branch, "--title", branch, "--json"];
    args.extend_from_slice(extra);
    let pr = p.json(&args);
    let id = pr["id"].as_i64().unwrap();
    assert_eq!(pr["spark_status"], "green", "{pr:#}");
    let n = id.to_string();
    assert!(
        p.run(&["pr", "approve", &n, "--by", "alice"])
            .status
            .success()
    );
    assert!(
        p.run(&["pr", "label", &n, "ready-for-staging"])
            .status
            .success()
    );
    id
}

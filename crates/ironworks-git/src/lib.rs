//! Git operations, by running the `git` binary (as bors does): it is what
//! users have, it understands every repository layout, and its behaviour is
//! the reference.
//!
//! Checkouts: a run clones the source once with `--shared` (objects are
//! borrowed through alternates, nothing is copied) and checks out the exact
//! commit; each job then gets its own copy of that pristine tree, `.git`
//! included, so jobs never share files and never touch the user's working
//! tree.

pub mod merge;
pub mod tree;

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git is not installed or not on PATH")]
    NotInstalled,
    #[error("source {0} does not exist")]
    SourceMissing(PathBuf),
    #[error("{0} is not a git repository")]
    NotARepository(PathBuf),
    #[error("revision `{rev}` does not name a commit in {repo}")]
    UnknownRevision { rev: String, repo: PathBuf },
    #[error("{name} no longer points at {expected} (someone else moved it): {stderr}")]
    RefMoved {
        name: String,
        expected: String,
        stderr: String,
    },
    #[error("`git {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
    #[error("{what} {path}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

pub type Result<T, E = GitError> = std::result::Result<T, E>;

/// Run git with an environment that cannot point it somewhere else.
fn git<I, S>(dir: Option<&Path>, args: I) -> Result<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    // Ironworks' own git calls must not start auto-gc or maintenance in the
    // user's repository: git detaches them, they become Ironworks' children
    // (it is a subreaper), and the end-of-run sweep would kill them.
    cmd.args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"]);
    cmd.args(args)
        .stdin(Stdio::null())
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        // Set when Ironworks runs inside a git hook; they would redirect
        // every command to the hook's repository.
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE")
        .env_remove("GIT_OBJECT_DIRECTORY")
        .env_remove("GIT_ALTERNATE_OBJECT_DIRECTORIES");
    match cmd.output() {
        Ok(output) => Ok(output),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Err(GitError::NotInstalled),
        Err(source) => Err(GitError::Io {
            what: "cannot run git in",
            path: dir.map(Path::to_owned).unwrap_or_default(),
            source,
        }),
    }
}

/// Run git and fail with its stderr unless it succeeds; returns stdout, trimmed.
fn git_ok<I, S>(dir: Option<&Path>, args: I) -> Result<String>
where
    I: IntoIterator<Item = S> + Clone,
    S: AsRef<OsStr>,
{
    let output = git(dir, args.clone())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

/// A source repository (bare or with a working tree).
#[derive(Debug, Clone)]
pub struct Repository {
    /// The path as given, for messages.
    path: PathBuf,
    /// Absolute path of the repository's git directory.
    pub(crate) git_dir: PathBuf,
}

impl Repository {
    pub fn open(path: &Path) -> Result<Repository> {
        if !path.exists() {
            return Err(GitError::SourceMissing(path.to_owned()));
        }
        let output = git(Some(path), ["rev-parse", "--absolute-git-dir"])?;
        if !output.status.success() {
            return Err(GitError::NotARepository(path.to_owned()));
        }
        let git_dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        Ok(Repository {
            path: path.to_owned(),
            git_dir,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The full id of the commit `rev` names.
    pub fn resolve_commit(&self, rev: &str) -> Result<String> {
        let unknown = || GitError::UnknownRevision {
            rev: rev.to_owned(),
            repo: self.path.clone(),
        };
        // A revision starting with `-` would be read as an option.
        if rev.is_empty() || rev.starts_with('-') || rev.contains('\0') {
            return Err(unknown());
        }
        let output = git(
            Some(&self.git_dir),
            [
                "rev-parse",
                "--verify",
                "--quiet",
                "--end-of-options",
                &format!("{rev}^{{commit}}"),
            ],
        )?;
        if output.status.success() {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        } else {
            Err(unknown())
        }
    }

    /// A clean checkout of `commit` at `dir` (which must not exist), sharing
    /// the source's objects. The source is only read.
    pub fn checkout(&self, commit: &str, dir: &Path) -> Result<()> {
        git_ok(
            None,
            [
                OsStr::new("clone"),
                OsStr::new("--quiet"),
                OsStr::new("--shared"),
                OsStr::new("--no-checkout"),
                // No sample hooks: every job copies this tree, and a job
                // must not run the source's hooks anyway.
                OsStr::new("--template="),
                // Reflogs are history of this throw-away clone: nobody reads them.
                OsStr::new("--config"),
                OsStr::new("core.logAllRefUpdates=false"),
                self.git_dir.as_os_str(),
                dir.as_os_str(),
            ],
        )?;
        git_ok(
            Some(dir),
            [
                "-c",
                "advice.detachedHead=false",
                "-c",
                "core.logAllRefUpdates=false",
                "checkout",
                "--quiet",
                "--detach",
                commit,
            ],
        )?;
        // Each job slot copies this tree once: keep its .git to what git
        // needs (no empty directories).
        prune_empty_dirs(&dir.join(".git"), true);
        Ok(())
    }
}

/// Remove empty directories below `dir`, bottom-up. `refs` and `objects` at
/// the top stay: git does not recognise a repository without them.
fn prune_empty_dirs(dir: &Path, top: bool) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            let path = entry.path();
            prune_empty_dirs(&path, false);
            let keep = top && matches!(entry.file_name().to_str(), Some("refs" | "objects"));
            if !keep {
                // Fails, harmlessly, when the directory is not empty.
                let _ = fs::remove_dir(&path);
            }
        }
    }
}

/// Copy a directory tree: files (with their permissions), directories and
/// symbolic links (as links, never followed). `dst` must not exist.
pub fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    let io_err = |what, path: &Path| {
        let path = path.to_owned();
        move |source| GitError::Io { what, path, source }
    };
    fs::create_dir(dst).map_err(io_err("cannot create directory", dst))?;
    let entries = fs::read_dir(src).map_err(io_err("cannot read directory", src))?;
    for entry in entries {
        let entry = entry.map_err(io_err("cannot read directory", src))?;
        let from = entry.path();
        let to = dst.join(entry.file_name());
        let kind = entry.file_type().map_err(io_err("cannot stat", &from))?;
        if kind.is_dir() {
            copy_tree(&from, &to)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(io_err("cannot read link", &from))?;
            std::os::unix::fs::symlink(&target, &to).map_err(io_err("cannot create link", &to))?;
        } else {
            fs::copy(&from, &to).map_err(io_err("cannot copy to", &to))?;
        }
    }
    Ok(())
}

/// Switch the working tree of `dir` to `branch`, creating it at the current
/// commit with `create`.
pub fn switch(dir: &Path, branch: &str, create: bool) -> Result<()> {
    let mut args = vec!["switch", "--quiet"];
    if create {
        args.push("-c");
    }
    args.push(branch);
    git_ok(Some(dir), args)?;
    Ok(())
}

/// Create a repository at `dir` (which may exist and hold files) whose
/// initial branch is `branch`.
pub fn init(dir: &Path, branch: &str) -> Result<()> {
    git_ok(
        None,
        [
            OsStr::new("init"),
            OsStr::new("--quiet"),
            OsStr::new("--initial-branch"),
            OsStr::new(branch),
            dir.as_os_str(),
        ],
    )?;
    Ok(())
}

/// Commit everything in the working tree of `dir`, as `author` (name, email),
/// and return the new commit's id.
pub fn commit_all(dir: &Path, message: &str, author: (&str, &str)) -> Result<String> {
    git_ok(Some(dir), ["add", "--all"])?;
    let identity = |key: &str, value: &str| format!("{key}={value}");
    git_ok(
        Some(dir),
        [
            "-c",
            &identity("user.name", author.0),
            "-c",
            &identity("user.email", author.1),
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            message,
        ],
    )?;
    git_ok(Some(dir), ["rev-parse", "HEAD"])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with_two_commits() -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        init(dir.path(), "main").unwrap();
        fs::write(dir.path().join("a.txt"), "one").unwrap();
        let first = commit_all(dir.path(), "one", ("T", "t@example.invalid")).unwrap();
        fs::write(dir.path().join("a.txt"), "two").unwrap();
        let second = commit_all(dir.path(), "two", ("T", "t@example.invalid")).unwrap();
        (dir, first, second)
    }

    #[test]
    fn resolves_revisions_and_rejects_unknown_ones() {
        let (dir, first, second) = repo_with_two_commits();
        let repo = Repository::open(dir.path()).unwrap();
        assert_eq!(repo.resolve_commit("HEAD").unwrap(), second);
        assert_eq!(repo.resolve_commit("main~1").unwrap(), first);
        assert_eq!(repo.resolve_commit(&first[..10]).unwrap(), first);
        for bad in ["nope", "--all", "", "HEAD~5"] {
            assert!(
                matches!(
                    repo.resolve_commit(bad),
                    Err(GitError::UnknownRevision { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn open_rejects_missing_and_non_repositories() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Repository::open(&dir.path().join("missing")),
            Err(GitError::SourceMissing(_))
        ));
        assert!(matches!(
            Repository::open(dir.path()),
            Err(GitError::NotARepository(_))
        ));
    }

    #[test]
    fn checkout_is_of_the_exact_commit_and_leaves_the_source_alone() {
        let (dir, first, _) = repo_with_two_commits();
        fs::write(dir.path().join("a.txt"), "dirty").unwrap();
        let repo = Repository::open(dir.path()).unwrap();
        let work = tempfile::tempdir().unwrap();
        let pristine = work.path().join("pristine");
        repo.checkout(&first, &pristine).unwrap();
        assert_eq!(fs::read_to_string(pristine.join("a.txt")).unwrap(), "one");
        assert_eq!(
            fs::read_to_string(dir.path().join("a.txt")).unwrap(),
            "dirty"
        );

        let copy = work.path().join("job");
        std::os::unix::fs::symlink("a.txt", pristine.join("link")).unwrap();
        copy_tree(&pristine, &copy).unwrap();
        assert_eq!(
            fs::read_link(copy.join("link")).unwrap(),
            Path::new("a.txt")
        );
        // The copy is a working repository of its own at the same commit.
        assert_eq!(git_ok(Some(&copy), ["rev-parse", "HEAD"]).unwrap(), first);
        let status = git_ok(Some(&copy), ["status", "--porcelain"]).unwrap();
        assert_eq!(status, "?? link");
    }
}

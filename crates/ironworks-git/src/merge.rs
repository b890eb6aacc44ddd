//! Merges, reverts and ref updates without a working tree.
//!
//! `git merge-tree --write-tree` computes a merge into the object store only;
//! `git commit-tree` makes the commit; `git update-ref NEW OLD` moves a branch
//! only if it still points where we last saw it. So a conflict never leaves
//! anything behind, nothing is ever force-pushed, and a branch someone else
//! moved is detected instead of overwritten.

use std::ffi::OsStr;
use std::path::Path;

use crate::{GitError, Repository, Result, git, git_ok};

/// Identity Ironworks commits as.
pub const COMMITTER: (&str, &str) = ("Ironworks", "ironworks@localhost");

/// The outcome of a merge attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merge {
    /// The merged tree's id.
    Clean { tree: String },
    /// The paths that conflict.
    Conflict { paths: Vec<String> },
}

impl Repository {
    fn git_dir_path(&self) -> &Path {
        &self.git_dir
    }

    /// Run git in the repository's git directory.
    fn run_ok<I, S>(&self, args: I) -> Result<String>
    where
        I: IntoIterator<Item = S> + Clone,
        S: AsRef<OsStr>,
    {
        git_ok(Some(self.git_dir_path()), args)
    }

    /// Merge `theirs` into `ours` (both commits) without touching any working
    /// tree. With `base`, use it as the merge base (for reverts).
    pub fn merge_tree(&self, ours: &str, theirs: &str, base: Option<&str>) -> Result<Merge> {
        let mut args = vec![
            "merge-tree".to_owned(),
            "--write-tree".to_owned(),
            "--name-only".to_owned(),
            "--no-messages".to_owned(),
        ];
        if let Some(base) = base {
            args.push(format!("--merge-base={base}"));
        }
        args.push(ours.to_owned());
        args.push(theirs.to_owned());
        let output = git(Some(self.git_dir_path()), &args)?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let mut lines = stdout.lines();
        let tree = lines.next().unwrap_or("").trim().to_owned();
        match output.status.code() {
            Some(0) => Ok(Merge::Clean { tree }),
            Some(1) => Ok(Merge::Conflict {
                paths: lines.map(str::to_owned).filter(|l| !l.is_empty()).collect(),
            }),
            _ => Err(GitError::Failed {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            }),
        }
    }

    /// Make a commit of `tree` with `parents` and `message`; returns its id.
    /// Author and committer dates are `at` (seconds since the epoch), so the
    /// same inputs give the same commit.
    pub fn commit_tree(
        &self,
        tree: &str,
        parents: &[&str],
        message: &str,
        at: u64,
    ) -> Result<String> {
        let mut args: Vec<String> = vec!["commit-tree".into(), tree.into()];
        for parent in parents {
            args.push("-p".into());
            args.push((*parent).into());
        }
        args.push("-m".into());
        args.push(message.into());
        let date = format!("@{at} +0000");
        let mut cmd = std::process::Command::new("git");
        cmd.arg("-C")
            .arg(self.git_dir_path())
            .args(["-c", "gc.auto=0", "-c", "maintenance.auto=false"])
            .args(&args)
            .env("GIT_AUTHOR_NAME", COMMITTER.0)
            .env("GIT_AUTHOR_EMAIL", COMMITTER.1)
            .env("GIT_COMMITTER_NAME", COMMITTER.0)
            .env("GIT_COMMITTER_EMAIL", COMMITTER.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(std::process::Stdio::null());
        let output = cmd.output().map_err(|_| GitError::NotInstalled)?;
        if !output.status.success() {
            return Err(GitError::Failed {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// The commit a full ref name points to, if it exists.
    pub fn ref_target(&self, name: &str) -> Result<Option<String>> {
        let output = git(
            Some(self.git_dir_path()),
            [
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{name}^{{commit}}"),
            ],
        )?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
    }

    /// Move `name` (a full ref) to `new` only if it points at `old` now
    /// (`None`: only if it does not exist). Never forces.
    pub fn update_ref(&self, name: &str, new: &str, old: Option<&str>, reason: &str) -> Result<()> {
        let zero = "0".repeat(40);
        let old = old.unwrap_or(&zero);
        let output = git(
            Some(self.git_dir_path()),
            ["update-ref", "-m", reason, name, new, old],
        )?;
        if output.status.success() {
            Ok(())
        } else {
            Err(GitError::RefMoved {
                name: name.to_owned(),
                expected: old.to_owned(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            })
        }
    }

    /// Delete a ref if it exists (scratch refs).
    pub fn delete_ref(&self, name: &str) -> Result<()> {
        let _ = git(Some(self.git_dir_path()), ["update-ref", "-d", name])?;
        Ok(())
    }

    /// Whether `ancestor` is reachable from `descendant`.
    pub fn is_ancestor(&self, ancestor: &str, descendant: &str) -> Result<bool> {
        let output = git(
            Some(self.git_dir_path()),
            ["merge-base", "--is-ancestor", ancestor, descendant],
        )?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(1) => Ok(false),
            _ => Err(GitError::Failed {
                args: format!("merge-base --is-ancestor {ancestor} {descendant}"),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            }),
        }
    }

    /// The tree id of a commit.
    pub fn tree_of(&self, commit: &str) -> Result<String> {
        self.run_ok(["rev-parse", &format!("{commit}^{{tree}}")])
    }

    /// The first parent of a commit.
    pub fn first_parent(&self, commit: &str) -> Result<String> {
        self.run_ok(["rev-parse", &format!("{commit}^1")])
    }

    /// Commits reachable from any of `include` and from none of `exclude`.
    pub fn rev_list(&self, include: &[&str], exclude: &[&str]) -> Result<Vec<String>> {
        if include.is_empty() {
            return Ok(Vec::new());
        }
        let mut args: Vec<String> = vec!["rev-list".into()];
        args.extend(include.iter().map(|c| (*c).to_owned()));
        args.extend(exclude.iter().map(|c| format!("^{c}")));
        let out = self.run_ok(&args)?;
        Ok(out
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect())
    }

    /// A commit's subject line.
    pub fn subject(&self, commit: &str) -> Result<String> {
        self.run_ok(["log", "-1", "--format=%s", commit])
    }

    /// A commit's full message.
    pub fn message(&self, commit: &str) -> Result<String> {
        self.run_ok(["log", "-1", "--format=%B", commit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn repo() -> (tempfile::TempDir, Repository, String) {
        let dir = tempfile::tempdir().unwrap();
        crate::init(dir.path(), "master").unwrap();
        fs::write(dir.path().join("a.txt"), "a\n").unwrap();
        fs::write(dir.path().join("b.txt"), "b\n").unwrap();
        let base = crate::commit_all(dir.path(), "base", ("T", "t@example.invalid")).unwrap();
        let repo = Repository::open(dir.path()).unwrap();
        (dir, repo, base)
    }

    fn branch(dir: &Path, name: &str, file: &str, text: &str, from: &str) -> String {
        git_ok(Some(dir), ["checkout", "-q", "-B", name, from]).unwrap();
        fs::write(dir.join(file), text).unwrap();
        crate::commit_all(dir, name, ("T", "t@example.invalid")).unwrap()
    }

    #[test]
    fn merges_conflicts_and_cas_updates() {
        let (dir, repo, base) = repo();
        let left = branch(dir.path(), "left", "a.txt", "left\n", &base);
        let right = branch(dir.path(), "right", "b.txt", "right\n", &base);
        let clash = branch(dir.path(), "clash", "a.txt", "clash\n", &base);

        let Merge::Clean { tree } = repo.merge_tree(&left, &right, None).unwrap() else {
            panic!("expected a clean merge");
        };
        let merged = repo
            .commit_tree(&tree, &[&left, &right], "merge\n\nPR: 1", 1_700_000_000)
            .unwrap();
        assert!(repo.is_ancestor(&left, &merged).unwrap());
        assert!(repo.is_ancestor(&right, &merged).unwrap());
        assert!(repo.message(&merged).unwrap().ends_with("PR: 1"));
        // Deterministic: same inputs, same commit.
        assert_eq!(
            repo.commit_tree(&tree, &[&left, &right], "merge\n\nPR: 1", 1_700_000_000)
                .unwrap(),
            merged
        );

        assert_eq!(
            repo.merge_tree(&left, &clash, None).unwrap(),
            Merge::Conflict {
                paths: vec!["a.txt".into()]
            }
        );

        repo.update_ref("refs/heads/staging", &left, None, "create")
            .unwrap();
        assert!(matches!(
            repo.update_ref("refs/heads/staging", &merged, Some(&base), "stale"),
            Err(GitError::RefMoved { .. })
        ));
        repo.update_ref("refs/heads/staging", &merged, Some(&left), "advance")
            .unwrap();
        assert_eq!(repo.ref_target("refs/heads/staging").unwrap(), Some(merged));
        assert_eq!(repo.ref_target("refs/heads/nope").unwrap(), None);
    }

    #[test]
    fn a_revert_is_a_merge_with_the_reverted_commit_as_base() {
        let (dir, repo, base) = repo();
        let change = branch(dir.path(), "change", "a.txt", "changed\n", &base);
        let later = branch(dir.path(), "change", "b.txt", "later\n", &change);
        // Revert `change` on top of `later`: base = change, theirs = change^.
        let Merge::Clean { tree } = repo.merge_tree(&later, &base, Some(&change)).unwrap() else {
            panic!("revert should be clean");
        };
        let reverted = repo.commit_tree(&tree, &[&later], "Revert", 1).unwrap();
        let show =
            |f: &str| git_ok(Some(dir.path()), ["show", &format!("{reverted}:{f}")]).unwrap();
        assert_eq!(show("a.txt"), "a");
        assert_eq!(show("b.txt"), "later");
    }
}

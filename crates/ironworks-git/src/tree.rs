//! Reusing a job's checkout for the next job, safely.
//!
//! Making a fresh copy of the source for every job costs an inode creation per
//! file and directory, and removing it afterwards as much again: with many
//! short jobs, or a large tree, that dominates. Instead, a checkout is
//! snapshotted right after it is made, and after each job it is *restored*:
//! what the job added is removed, what it changed or removed is copied again
//! from the pristine tree, and everything else is kept.
//!
//! "Unchanged" is decided by inode number, mode, size, mtime and ctime. A job
//! can set a file's mtime back, but not its ctime: any write, rename, chmod or
//! utimes moves ctime to now. So a matching snapshot entry proves the file
//! is the one that was copied, with the content it had.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

/// What kind of entry, and the fields that prove it unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    kind: Kind,
    ino: u64,
    mode: u32,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Option<Stamp> {
        let kind = if meta.file_type().is_symlink() {
            Kind::Symlink
        } else if meta.is_dir() {
            Kind::Dir
        } else if meta.is_file() {
            Kind::File
        } else {
            return None; // sockets, fifos, devices: never part of a checkout
        };
        Some(Stamp {
            kind,
            ino: meta.ino(),
            mode: meta.mode(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        })
    }

    /// A directory's own times change whenever an entry is added or removed;
    /// its entries are checked one by one, so only kind, inode and mode count.
    fn unchanged(&self, now: &Stamp) -> bool {
        match self.kind {
            Kind::Dir => now.kind == Kind::Dir && now.ino == self.ino && now.mode == self.mode,
            _ => self == now,
        }
    }
}

/// The state of a checkout right after it was made from the pristine tree.
#[derive(Debug, Clone)]
pub struct TreeSnapshot {
    /// Relative path → stamp; sorted, so parents come before their entries.
    entries: BTreeMap<PathBuf, Stamp>,
}

/// What a restore did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Restored {
    /// Entries the job added, removed (a directory counts once).
    pub removed: usize,
    /// Entries the job changed or removed, copied again from the pristine tree.
    pub recopied: usize,
}

impl Restored {
    pub fn is_clean(&self) -> bool {
        self.removed == 0 && self.recopied == 0
    }
}

impl TreeSnapshot {
    /// Snapshot the tree at `root` (not followed through symbolic links).
    pub fn take(root: &Path) -> io::Result<TreeSnapshot> {
        Ok(TreeSnapshot {
            entries: walk(root)?,
        })
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bring the tree at `root` back to the snapshot, copying what is needed
    /// from `pristine` (the tree `root` was copied from). Directories the job
    /// added are moved into `trash` (created if needed, same file system) for
    /// the caller to delete later, or deleted at once without one. On success
    /// the snapshot describes `root` again.
    pub fn restore(
        &mut self,
        root: &Path,
        pristine: &Path,
        trash: Option<&Path>,
    ) -> io::Result<Restored> {
        let current = walk(root)?;
        let mut done = Restored::default();

        // What the job added. Sorted order visits a directory before its
        // entries, so removing a whole new directory skips its contents.
        let mut removed_dirs: Vec<&Path> = Vec::new();
        for (path, stamp) in &current {
            if self.entries.contains_key(path) || removed_dirs.iter().any(|d| path.starts_with(d)) {
                continue;
            }
            match (stamp.kind, trash) {
                (Kind::Dir, Some(trash)) => {
                    fs::create_dir_all(trash)?;
                    fs::rename(root.join(path), trash.join(done.removed.to_string()))?;
                }
                _ => remove(&root.join(path), stamp.kind)?,
            }
            if stamp.kind == Kind::Dir {
                removed_dirs.push(path);
            }
            done.removed += 1;
        }

        // What the job changed or removed. A directory that had to be made
        // anew has none of its entries any more, whatever `current` says.
        let mut recopied: HashSet<PathBuf> = HashSet::new();
        let mut remade_dirs: Vec<PathBuf> = Vec::new();
        for (path, want) in &self.entries {
            let gone = remade_dirs.iter().any(|d| path.starts_with(d));
            let now = if gone { None } else { current.get(path) };
            match now {
                Some(now) if want.unchanged(now) => continue,
                Some(now)
                    if want.kind == Kind::Dir && now.kind == Kind::Dir && now.ino == want.ino =>
                {
                    // Same directory, other mode: put the mode back.
                    use std::os::unix::fs::PermissionsExt as _;
                    fs::set_permissions(
                        root.join(path),
                        fs::Permissions::from_mode(want.mode & 0o7777),
                    )?;
                }
                Some(now) => {
                    remove(&root.join(path), now.kind)?;
                    copy_entry(&pristine.join(path), &root.join(path), want.kind)?;
                    if want.kind == Kind::Dir {
                        remade_dirs.push(path.clone());
                    }
                }
                None => {
                    copy_entry(&pristine.join(path), &root.join(path), want.kind)?;
                    if want.kind == Kind::Dir {
                        remade_dirs.push(path.clone());
                    }
                }
            }
            recopied.insert(path.clone());
            done.recopied += 1;
        }

        if !recopied.is_empty() {
            for path in recopied {
                let meta = fs::symlink_metadata(root.join(&path))?;
                if let Some(stamp) = Stamp::of(&meta) {
                    self.entries.insert(path, stamp);
                }
            }
        }
        Ok(done)
    }
}

fn walk(root: &Path) -> io::Result<BTreeMap<PathBuf, Stamp>> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(root.join(&dir))? {
            let entry = entry?;
            let relative = dir.join(entry.file_name());
            let meta = entry.metadata()?; // lstat: links are not followed
            match Stamp::of(&meta) {
                Some(stamp) => {
                    if stamp.kind == Kind::Dir {
                        pending.push(relative.clone());
                    }
                    entries.insert(relative, stamp);
                }
                None => {
                    // A fifo or socket a job left: it is not in any snapshot,
                    // so record it as a file to have it removed.
                    let stamp = Stamp {
                        kind: Kind::File,
                        ino: meta.ino(),
                        mode: meta.mode(),
                        size: 0,
                        mtime: (0, 0),
                        ctime: (0, 0),
                    };
                    entries.insert(relative, stamp);
                }
            }
        }
    }
    Ok(entries)
}

fn remove(path: &Path, kind: Kind) -> io::Result<()> {
    let result = match kind {
        Kind::Dir => {
            // A job may have made a directory unwritable; make it removable.
            make_writable(path);
            fs::remove_dir_all(path)
        }
        Kind::File | Kind::Symlink => fs::remove_file(path),
    };
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = fs::symlink_metadata(dir)
        && meta.is_dir()
    {
        let mode = meta.permissions().mode();
        if mode & 0o700 != 0o700 {
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode | 0o700));
        }
        if let Ok(entries) = fs::read_dir(dir) {
            for entry in entries.flatten() {
                make_writable(&entry.path());
            }
        }
    }
}

fn copy_entry(from: &Path, to: &Path, kind: Kind) -> io::Result<()> {
    match kind {
        Kind::Dir => {
            fs::create_dir(to)?;
            fs::set_permissions(to, fs::metadata(from)?.permissions())
        }
        Kind::Symlink => std::os::unix::fs::symlink(fs::read_link(from)?, to),
        Kind::File => fs::copy(from, to).map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn pristine() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("src/deep")).unwrap();
        fs::write(dir.path().join("src/a.c"), "int a;\n").unwrap();
        fs::write(dir.path().join("src/deep/b.c"), "int b;\n").unwrap();
        fs::write(dir.path().join("README"), "hello\n").unwrap();
        std::os::unix::fs::symlink("README", dir.path().join("link")).unwrap();
        dir
    }

    /// Every file's content and every link's target, for comparison.
    fn contents(root: &Path) -> BTreeMap<PathBuf, String> {
        walk(root)
            .unwrap()
            .into_iter()
            .map(|(path, stamp)| {
                let full = root.join(&path);
                let text = match stamp.kind {
                    Kind::File => fs::read_to_string(&full).unwrap(),
                    Kind::Symlink => format!("-> {}", fs::read_link(&full).unwrap().display()),
                    Kind::Dir => format!("dir {:o}", stamp.mode & 0o7777),
                };
                (path, text)
            })
            .collect()
    }

    fn checkout(pristine: &Path) -> (tempfile::TempDir, PathBuf, TreeSnapshot) {
        let work = tempfile::tempdir().unwrap();
        let root = work.path().join("co");
        crate::copy_tree(pristine, &root).unwrap();
        let snapshot = TreeSnapshot::take(&root).unwrap();
        (work, root, snapshot)
    }

    #[test]
    fn an_untouched_checkout_needs_nothing() {
        let p = pristine();
        let (_w, root, mut snap) = checkout(p.path());
        assert_eq!(snap.len(), 6);
        assert!(snap.restore(&root, p.path(), None).unwrap().is_clean());
    }

    #[test]
    fn what_a_job_did_is_undone_and_nothing_else_is_touched() {
        let p = pristine();
        let (_w, root, mut snap) = checkout(p.path());
        let untouched_ino = fs::metadata(root.join("src/deep/b.c")).unwrap().ino();

        // Build outputs, an edit, a deletion, a replaced link, a chmod.
        fs::create_dir_all(root.join("build/obj")).unwrap();
        fs::write(root.join("build/obj/a.o"), "x").unwrap();
        fs::write(root.join("src/new.c"), "new").unwrap();
        fs::write(root.join("src/a.c"), "int A;\n").unwrap(); // same size
        fs::remove_file(root.join("README")).unwrap();
        fs::remove_file(root.join("link")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("link")).unwrap();
        fs::set_permissions(root.join("src/deep"), fs::Permissions::from_mode(0o500)).unwrap();

        let trash = root.parent().unwrap().join("trash");
        let done = snap.restore(&root, p.path(), Some(&trash)).unwrap();
        assert_eq!(done.removed, 2, "build/ and src/new.c");
        assert!(trash.join("0/obj/a.o").exists(), "build/ went to the trash");
        assert_eq!(
            done.recopied, 4,
            "src/a.c, README, link, the mode of src/deep"
        );
        assert_eq!(contents(&root), contents(p.path()));
        assert_eq!(
            fs::metadata(root.join("src/deep/b.c")).unwrap().ino(),
            untouched_ino
        );
        // And the snapshot describes the restored tree again.
        assert!(snap.restore(&root, p.path(), None).unwrap().is_clean());
    }

    #[test]
    fn a_rewrite_that_keeps_size_and_mtime_is_still_caught() {
        let p = pristine();
        let (_w, root, mut snap) = checkout(p.path());
        let path = root.join("src/a.c");
        let mtime = fs::metadata(&path).unwrap().modified().unwrap();
        fs::write(&path, "int Z;\n").unwrap();
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        let done = snap.restore(&root, p.path(), None).unwrap();
        assert_eq!(done.recopied, 1);
        assert_eq!(fs::read_to_string(&path).unwrap(), "int a;\n");
    }

    #[test]
    fn a_directory_replaced_by_a_file_and_a_removed_tree_come_back() {
        let p = pristine();
        let (_w, root, mut snap) = checkout(p.path());
        fs::remove_dir_all(root.join("src")).unwrap();
        fs::write(root.join("src"), "not a dir").unwrap();
        snap.restore(&root, p.path(), None).unwrap();
        assert_eq!(contents(&root), contents(p.path()));
    }
}

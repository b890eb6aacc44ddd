//! Laying a verified fixture out in a run directory.
//!
//! Archives are untrusted input even after their digest matched (the digest
//! only says they are the bytes someone pinned). Every entry is checked
//! before it touches the disk: no absolute paths, no `..`, no device or fifo
//! entries, and no symlink or hard link that resolves outside the tree. Links
//! are resolved against what is already on disk, following symlinks created
//! by earlier entries, and every symlink is checked once more when the tree
//! is complete (a later entry can change where an earlier link leads).
//!
//! The tree is built in a temp directory beside `dest` and renamed to `dest`
//! only when complete; on any failure the temp directory is removed, so
//! `dest` either holds the whole fixture or does not exist.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use ironworks_core::fixture::{Fixture, FixtureFormat};

use crate::error::FixtureError;

/// Opens a new file for writing. Injectable so tests can simulate a full disk.
pub(crate) type Create<'a> = dyn FnMut(&Path, u32) -> io::Result<Box<dyn Write>> + 'a;

/// Unpack the verified file `cached` of `fixture` into the fresh directory
/// `dest` (which must not exist; its parent is created if needed).
///
/// `plain` fixtures are copied to `dest/<file name of the first URL>`;
/// `tar` and `tar.zst` are extracted.
pub fn unpack(fixture: &Fixture, cached: &Path, dest: &Path) -> Result<(), FixtureError> {
    unpack_with(fixture, cached, dest, &mut |path, mode| {
        let file = OpenOptions::new()
            .write(true)
            // Never through an existing file or symlink.
            .create_new(true)
            .mode(mode)
            .open(path)?;
        Ok(Box::new(file))
    })
}

pub(crate) fn unpack_with(
    fixture: &Fixture,
    cached: &Path,
    dest: &Path,
    create: &mut Create<'_>,
) -> Result<(), FixtureError> {
    let write_error = |source| FixtureError::Unpack {
        id: fixture.id.clone(),
        dest: dest.to_owned(),
        source,
    };
    if fs::symlink_metadata(dest).is_ok() {
        return Err(FixtureError::DestinationExists {
            id: fixture.id.clone(),
            dest: dest.to_owned(),
        });
    }
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    fs::create_dir_all(parent).map_err(write_error)?;
    // Dropped (and removed) on every early return.
    let staging = tempfile::Builder::new()
        .prefix(&format!(".unpack-{}-", fixture.id))
        .tempdir_in(parent)
        .map_err(write_error)?;
    let root = staging.path();

    let source = File::open(cached).map_err(|source| FixtureError::Read {
        id: fixture.id.clone(),
        path: cached.to_owned(),
        source,
    })?;
    let mut reader = BufReader::with_capacity(1 << 20, source);
    match fixture.format {
        FixtureFormat::Plain => {
            let name = fixture.file_name();
            let mut out = create(&root.join(name), 0o644).map_err(write_error)?;
            io::copy(&mut reader, &mut out).map_err(write_error)?;
            out.flush().map_err(write_error)?;
        }
        FixtureFormat::Tar => extract(fixture, cached, &mut reader, root, dest, create)?,
        FixtureFormat::TarZst => {
            let mut decoder =
                ruzstd::decoding::StreamingDecoder::new(&mut reader).map_err(|err| {
                    FixtureError::Archive {
                        id: fixture.id.clone(),
                        path: cached.to_owned(),
                        source: io::Error::new(io::ErrorKind::InvalidData, err.to_string()),
                    }
                })?;
            extract(fixture, cached, &mut decoder, root, dest, create)?;
        }
    }

    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).map_err(write_error)?;
    let kept = staging.keep();
    if let Err(err) = fs::rename(&kept, dest) {
        let _ = fs::remove_dir_all(&kept);
        return Err(write_error(err));
    }
    Ok(())
}

fn extract(
    fixture: &Fixture,
    cached: &Path,
    reader: &mut dyn Read,
    root: &Path,
    dest: &Path,
    create: &mut Create<'_>,
) -> Result<(), FixtureError> {
    let archive_error = |source| FixtureError::Archive {
        id: fixture.id.clone(),
        path: cached.to_owned(),
        source,
    };
    let write_error = |source| FixtureError::Unpack {
        id: fixture.id.clone(),
        dest: dest.to_owned(),
        source,
    };
    let unsafe_entry = |entry: &Path, why: &str| FixtureError::UnsafeEntry {
        id: fixture.id.clone(),
        entry: entry.display().to_string(),
        why: why.to_owned(),
    };

    let mut symlinks = Vec::new();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(archive_error)? {
        let mut entry = entry.map_err(archive_error)?;
        let path = entry.path().map_err(archive_error)?.into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            continue;
        }
        let relative = match inside_path(&path) {
            Ok(Some(relative)) => relative,
            Ok(None) if kind.is_dir() => continue, // the root itself: `./`
            Ok(None) => return Err(unsafe_entry(&path, "names the archive root")),
            Err(why) => return Err(unsafe_entry(&path, why)),
        };
        let escapes = |path: &Path| unsafe_entry(path, "resolves outside the fixture directory");
        // Where the parent really is, following links made by earlier entries.
        let parent = match relative.parent() {
            Some(parent) => resolve(root, parent).map_err(|()| escapes(&path))?,
            None => PathBuf::new(),
        };
        let name = relative
            .file_name()
            .expect("inside_path keeps a last component");
        let target = root.join(&parent).join(name);

        if kind.is_dir() {
            let resolved = resolve(root, &relative).map_err(|()| escapes(&path))?;
            fs::create_dir_all(root.join(resolved)).map_err(write_error)?;
        } else if kind.is_file() || kind.is_contiguous() {
            fs::create_dir_all(root.join(&parent)).map_err(write_error)?;
            let mode = entry.header().mode().map_err(archive_error)? & 0o777;
            let mut out = create(&target, mode | 0o600).map_err(write_error)?;
            // A read error is a bad archive; a write error is our disk.
            copy_entry(&mut entry, &mut out).map_err(|e| match e {
                CopyError::Read(err) => archive_error(err),
                CopyError::Write(err) => write_error(err),
            })?;
        } else if kind.is_symlink() {
            let link = entry
                .link_name()
                .map_err(archive_error)?
                .ok_or_else(|| unsafe_entry(&path, "symlink without a target"))?
                .into_owned();
            if link.is_absolute() {
                return Err(unsafe_entry(
                    &path,
                    &format!("symlink to absolute path {}", link.display()),
                ));
            }
            resolve(root, &parent.join(&link)).map_err(|()| {
                unsafe_entry(
                    &path,
                    &format!("symlink to {} leaves the fixture directory", link.display()),
                )
            })?;
            fs::create_dir_all(root.join(&parent)).map_err(write_error)?;
            std::os::unix::fs::symlink(&link, &target).map_err(write_error)?;
            symlinks.push((path, parent.join(name)));
        } else if kind.is_hard_link() {
            let link = entry
                .link_name()
                .map_err(archive_error)?
                .ok_or_else(|| unsafe_entry(&path, "hard link without a target"))?
                .into_owned();
            // Hard link targets are archive paths, relative to the root.
            let link_rel = match inside_path(&link) {
                Ok(Some(rel)) => rel,
                Ok(None) | Err(_) => {
                    return Err(unsafe_entry(
                        &path,
                        &format!(
                            "hard link to {} leaves the fixture directory",
                            link.display()
                        ),
                    ));
                }
            };
            let source = resolve(root, &link_rel).map_err(|()| escapes(&path))?;
            let source = root.join(source);
            match fs::symlink_metadata(&source) {
                Ok(meta) if meta.is_file() => {}
                _ => {
                    return Err(unsafe_entry(
                        &path,
                        &format!(
                            "hard link to {}, which is not a file unpacked before it",
                            link.display()
                        ),
                    ));
                }
            }
            fs::create_dir_all(root.join(&parent)).map_err(write_error)?;
            fs::hard_link(&source, &target).map_err(write_error)?;
        } else if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            return Err(unsafe_entry(
                &path,
                "device and fifo entries are not allowed in fixtures",
            ));
        } else {
            return Err(unsafe_entry(
                &path,
                &format!("unsupported entry type {:?}", kind.as_byte() as char),
            ));
        }
    }
    // A later entry may have changed where an earlier symlink leads.
    for (path, at) in symlinks {
        resolve(root, &at)
            .map_err(|()| unsafe_entry(&path, "symlink resolves outside the fixture directory"))?;
    }
    Ok(())
}

enum CopyError {
    Read(io::Error),
    Write(io::Error),
}

fn copy_entry(from: &mut dyn Read, to: &mut dyn Write) -> Result<(), CopyError> {
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(CopyError::Read(err)),
        };
        to.write_all(&buffer[..n]).map_err(CopyError::Write)?;
    }
    to.flush().map_err(CopyError::Write)
}

/// An archive path as a clean relative path (`./a/b` → `a/b`), `None` for
/// the root itself, or why it is refused.
fn inside_path(path: &Path) -> Result<Option<PathBuf>, &'static str> {
    let mut clean = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains `..`"),
            Component::RootDir | Component::Prefix(_) => return Err("path is absolute"),
        }
    }
    Ok((!clean.as_os_str().is_empty()).then_some(clean))
}

/// Resolve `path` (relative to `root`) the way the kernel would, following
/// symlinks already on disk under `root`, and return the symlink-free
/// relative path it names (whose tail may not exist yet). `Err` if it climbs
/// above `root` at any point, if a symlink is absolute, or on a symlink loop.
fn resolve(root: &Path, path: &Path) -> Result<PathBuf, ()> {
    const MAX_FOLLOWS: u32 = 40;
    let mut follows = 0;
    let mut stack: Vec<OsString> = Vec::new();
    let mut todo: VecDeque<OsString> = VecDeque::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => todo.push_back(part.to_owned()),
            Component::CurDir => {}
            Component::ParentDir => todo.push_back(OsString::from("..")),
            Component::RootDir | Component::Prefix(_) => return Err(()),
        }
    }
    while let Some(part) = todo.pop_front() {
        if part == ".." {
            stack.pop().ok_or(())?;
            continue;
        }
        stack.push(part);
        let here: PathBuf = root.join(stack.iter().collect::<PathBuf>());
        let is_link = fs::symlink_metadata(&here).is_ok_and(|m| m.file_type().is_symlink());
        if !is_link {
            continue;
        }
        follows += 1;
        if follows > MAX_FOLLOWS {
            return Err(());
        }
        let target = fs::read_link(&here).map_err(|_| ())?;
        stack.pop();
        let mut replaced = VecDeque::new();
        for component in target.components() {
            match component {
                Component::Normal(p) => replaced.push_back(p.to_owned()),
                Component::CurDir => {}
                Component::ParentDir => replaced.push_back(OsString::from("..")),
                Component::RootDir | Component::Prefix(_) => return Err(()),
            }
        }
        while let Some(p) = replaced.pop_back() {
            todo.push_front(p);
        }
    }
    Ok(stack.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_paths_are_cleaned_or_refused() {
        assert_eq!(
            inside_path(Path::new("./a/b")),
            Ok(Some(PathBuf::from("a/b")))
        );
        assert_eq!(inside_path(Path::new("./")), Ok(None));
        assert!(inside_path(Path::new("a/../../b")).is_err());
        assert!(inside_path(Path::new("/etc/passwd")).is_err());
    }

    /// Accepts `room` bytes in total across every file, then fails like a
    /// full disk does.
    struct SmallDisk {
        room: std::rc::Rc<std::cell::Cell<usize>>,
        file: File,
    }

    impl Write for SmallDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let room = self.room.get();
            if room == 0 {
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
            let n = self.file.write(&buf[..buf.len().min(room)])?;
            self.room.set(room - n);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            self.file.flush()
        }
    }

    #[test]
    fn a_full_disk_leaves_no_destination_and_the_cached_file_intact() {
        let work = tempfile::tempdir().unwrap();
        let mut builder = tar::Builder::new(Vec::new());
        for name in ["a", "b", "c"] {
            let mut header = tar::Header::new_gnu();
            header.set_size(50_000);
            header.set_mode(0o644);
            builder
                .append_data(&mut header, format!("dir/{name}"), &[7u8; 50_000][..])
                .unwrap();
        }
        let archive = builder.into_inner().unwrap();
        let cached = work.path().join("cached.tar");
        fs::write(&cached, &archive).unwrap();
        let fixture = Fixture {
            id: "full".into(),
            kind: ironworks_core::fixture::FixtureKind::Datadir,
            urls: vec!["file:x.tar".into()],
            sha256: crate::sha256_file(&cached).unwrap().1,
            size: archive.len() as u64,
            format: FixtureFormat::Tar,
            expect: Default::default(),
        };
        let runs = work.path().join("runs");
        let dest = runs.join("dest");
        let room = std::rc::Rc::new(std::cell::Cell::new(120_000));
        let err = unpack_with(&fixture, &cached, &dest, &mut |path, mode| {
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(mode)
                .open(path)?;
            Ok(Box::new(SmallDisk {
                room: room.clone(),
                file,
            }))
        })
        .unwrap_err();
        assert!(matches!(err, FixtureError::Unpack { .. }), "{err:?}");
        assert!(
            err.to_string()
                .starts_with("fixture `full`: cannot unpack into"),
            "{err}"
        );
        assert_eq!(room.get(), 0, "the failure happened mid-archive");
        assert!(!dest.exists());
        assert_eq!(
            fs::read_dir(&runs).unwrap().count(),
            0,
            "staging dir removed"
        );
        assert_eq!(fs::read(&cached).unwrap(), archive, "cache untouched");

        // With room, the same archive unpacks.
        unpack(&fixture, &cached, &dest).unwrap();
        assert_eq!(fs::read(dest.join("dir/c")).unwrap().len(), 50_000);
    }

    #[test]
    fn resolve_follows_links_and_catches_escapes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("../..", root.join("a/b/up")).unwrap();
        std::os::unix::fs::symlink("b", root.join("a/to-b")).unwrap();
        assert_eq!(resolve(root, Path::new("a/b/up")), Ok(PathBuf::new()));
        assert_eq!(
            resolve(root, Path::new("a/to-b/x")),
            Ok(PathBuf::from("a/b/x"))
        );
        // Lexically `a/b`, but `up` is the root, so `up/..` leaves it.
        assert_eq!(resolve(root, Path::new("a/b/up/..")), Err(()));
        assert_eq!(resolve(root, Path::new("..")), Err(()));
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert_eq!(resolve(root, Path::new("loop")), Err(()));
    }
}

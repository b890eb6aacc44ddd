//! Keeping the files a job declares as artifacts. Matches of the job's globs
//! inside its checkout are copied into the run's artifact directory, with
//! their size and sha256. Nothing outside the checkout is ever copied, even
//! through a symbolic link.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use ironworks_core::record::ArtifactRecord;
use sha2::{Digest, Sha256};

/// What collecting artifacts found.
#[derive(Debug, Default)]
pub struct Collected {
    pub artifacts: Vec<ArtifactRecord>,
    /// Problems that did not stop the collection: a glob that matched
    /// nothing, a link that points out of the checkout, an unreadable file.
    pub warnings: Vec<String>,
}

/// Copy every file matching `globs` (relative to `checkout`) into `dest`,
/// keeping relative paths. Directories that match are copied whole.
pub fn collect(checkout: &Path, globs: &[String], dest: &Path) -> Collected {
    let mut out = Collected::default();
    let Ok(root) = checkout.canonicalize() else {
        out.warnings
            .push(format!("checkout {} is gone", checkout.display()));
        return out;
    };
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    for pattern in globs {
        let full = format!(
            "{}/{pattern}",
            glob::Pattern::escape(&root.to_string_lossy())
        );
        let matches = match glob::glob_with(&full, options) {
            Ok(paths) => paths,
            Err(err) => {
                out.warnings
                    .push(format!("artifact glob `{pattern}`: {err}"));
                continue;
            }
        };
        let before = out.artifacts.len();
        for path in matches.flatten() {
            keep(&root, &path, dest, &mut out);
        }
        if out.artifacts.len() == before {
            out.warnings
                .push(format!("artifact glob `{pattern}` matched no file"));
        }
    }
    out.artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    out.artifacts.dedup_by(|a, b| a.path == b.path);
    out
}

fn keep(root: &Path, path: &Path, dest: &Path, out: &mut Collected) {
    let relative = path.strip_prefix(root).unwrap_or(path).to_owned();
    // A link may point anywhere; only what it resolves to inside the
    // checkout is kept.
    let real = match path.canonicalize() {
        Ok(real) if real.starts_with(root) => real,
        Ok(_) => {
            out.warnings.push(format!(
                "artifact {} points outside the checkout; not kept",
                relative.display()
            ));
            return;
        }
        Err(err) => {
            out.warnings
                .push(format!("artifact {}: {err}", relative.display()));
            return;
        }
    };
    if real.is_dir() {
        let Ok(entries) = fs::read_dir(&real) else {
            out.warnings.push(format!(
                "cannot read artifact directory {}",
                relative.display()
            ));
            return;
        };
        for entry in entries.flatten() {
            keep(root, &path.join(entry.file_name()), dest, out);
        }
        return;
    }
    let target = dest.join(&relative);
    match copy_hashed(&real, &target) {
        Ok((size, sha256)) => out.artifacts.push(ArtifactRecord {
            path: relative.to_string_lossy().into_owned(),
            stored_at: target.to_string_lossy().into_owned(),
            size,
            sha256,
        }),
        Err(err) => out.warnings.push(format!(
            "cannot keep artifact {}: {err}",
            relative.display()
        )),
    }
}

/// Copy a file, computing its sha256 on the way. Returns (size, hex digest).
pub fn copy_hashed(from: &Path, to: &Path) -> io::Result<(u64, String)> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut input = File::open(from)?;
    let mut output = File::create(to)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        output.write_all(&buf[..n])?;
        size += n as u64;
    }
    output.flush()?;
    Ok((size, hex(&hasher.finalize())))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Where the artifacts of one job run are kept.
pub fn artifact_dir(run_dir: &Path, job: &str) -> PathBuf {
    run_dir.join(job).join("artifacts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_matches_with_digests_and_refuses_escapes() {
        let work = tempfile::tempdir().unwrap();
        let checkout = work.path().join("co");
        fs::create_dir_all(checkout.join("dist/sub")).unwrap();
        fs::write(checkout.join("dist/a.tar.gz"), "abc").unwrap();
        fs::write(checkout.join("dist/sub/b.txt"), "").unwrap();
        fs::write(work.path().join("secret"), "no").unwrap();
        std::os::unix::fs::symlink(work.path().join("secret"), checkout.join("dist/leak")).unwrap();
        let dest = work.path().join("kept");
        let got = collect(
            &checkout,
            &[
                "dist/*.tar.gz".into(),
                "dist/sub".into(),
                "dist/leak".into(),
                "none/*".into(),
            ],
            &dest,
        );
        let paths: Vec<_> = got.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, ["dist/a.tar.gz", "dist/sub/b.txt"]);
        assert_eq!(got.artifacts[0].size, 3);
        // sha256("abc")
        assert_eq!(
            got.artifacts[0].sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            fs::read_to_string(dest.join("dist/a.tar.gz")).unwrap(),
            "abc"
        );
        assert!(!dest.join("dist/leak").exists());
        let warnings = got.warnings.join("\n");
        assert!(
            warnings.contains("dist/leak points outside the checkout"),
            "{warnings}"
        );
        assert!(warnings.contains("`none/*` matched no file"), "{warnings}");
    }
}

//! End-to-end tests of the fixture store against real files, a real HTTP
//! server on 127.0.0.1, real tar / tar.zst archives and (where the machine
//! allows it) a real full filesystem.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use ironworks_cache::{FixtureError, FixtureStore, RetryPolicy, sha256_reader, unpack};
use ironworks_core::fixture::{Fixture, FixtureFormat, FixtureKind};

fn digest(bytes: &[u8]) -> String {
    sha256_reader(&mut &bytes[..]).unwrap().1
}

fn fixture(id: &str, format: FixtureFormat, urls: &[&str], bytes: &[u8]) -> Fixture {
    Fixture {
        id: id.into(),
        kind: FixtureKind::Blocks,
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        sha256: digest(bytes),
        size: bytes.len() as u64,
        format,
        expect: BTreeMap::new(),
    }
}

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        backoff: Duration::from_millis(10),
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
    }
}

/// Files in a directory, sorted (for "nothing was left behind" checks).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|it| {
            it.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A source directory holding `name` with `bytes`, as a relative file URL.
struct Source {
    dir: tempfile::TempDir,
}

impl Source {
    fn with(name: &str, bytes: &[u8]) -> Source {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("fixtures")).unwrap();
        fs::write(dir.path().join("fixtures").join(name), bytes).unwrap();
        Source { dir }
    }
    fn base(&self) -> &Path {
        self.dir.path()
    }
}

#[test]
fn fetches_a_relative_file_url_once_then_serves_the_verified_cache() {
    let bytes = b"block data ".repeat(1000);
    let source = Source::with("blocks.bin", &bytes);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let f = fixture(
        "blocks",
        FixtureFormat::Plain,
        &["file:fixtures/blocks.bin"],
        &bytes,
    );

    let cached = store.fetch(&f, source.base()).unwrap();
    assert_eq!(cached, state.path().join("fixtures/sha256").join(&f.sha256));
    assert_eq!(fs::read(&cached).unwrap(), bytes);
    assert_eq!(
        listing(store.dir()),
        vec![f.sha256.clone()],
        "no temp files left"
    );

    // The source is gone: the second fetch must come from the cache.
    fs::remove_dir_all(source.base().join("fixtures")).unwrap();
    assert_eq!(store.fetch(&f, source.base()).unwrap(), cached);
}

#[test]
fn a_tampered_cache_entry_is_detected_removed_and_refetched() {
    let bytes = b"snapshot".repeat(4096);
    let source = Source::with("snap.dat", &bytes);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let f = fixture(
        "snap",
        FixtureFormat::Plain,
        &["file:fixtures/snap.dat"],
        &bytes,
    );
    let cached = store.fetch(&f, source.base()).unwrap();

    // Flip one byte in place: same size, different digest.
    let mut tampered = fs::read(&cached).unwrap();
    tampered[1234] ^= 0x01;
    fs::write(&cached, &tampered).unwrap();

    let err = store.fetch(&f, source.base()).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, FixtureError::CorruptEntry { expected, actual, .. }
            if *expected == f.sha256 && *actual == digest(&tampered)),
        "{err:?}"
    );
    assert!(text.contains("fixture `snap`"), "{text}");
    assert!(text.contains(&f.sha256), "{text}");
    assert!(text.contains(&digest(&tampered)), "{text}");
    assert!(!cached.exists(), "the bad entry is removed");

    // Fetching again downloads a good copy.
    assert_eq!(
        fs::read(store.fetch(&f, source.base()).unwrap()).unwrap(),
        bytes
    );
}

#[test]
fn a_truncated_cache_entry_is_detected_by_size() {
    let bytes = vec![7u8; 10_000];
    let source = Source::with("d.bin", &bytes);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let f = fixture("d", FixtureFormat::Plain, &["file:fixtures/d.bin"], &bytes);
    let cached = store.fetch(&f, source.base()).unwrap();
    fs::write(&cached, &bytes[..9_000]).unwrap();
    let text = store.fetch(&f, source.base()).unwrap_err().to_string();
    assert!(
        text.contains("expected 10000 bytes, actual 9000 bytes"),
        "{text}"
    );
    assert!(!cached.exists());
}

#[test]
fn truncated_oversized_and_wrong_sources_fail_closed_and_leave_no_entry() {
    let bytes = b"0123456789".repeat(100);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let good = fixture("f", FixtureFormat::Plain, &["file:fixtures/f.bin"], &bytes);

    let cases: [(&[u8], &str); 2] = [
        (
            &bytes[..500],
            "size mismatch: expected 1000 bytes, actual 500 bytes",
        ),
        (
            &[bytes.as_slice(), b"x"].concat(),
            "expected 1000 bytes, the source has more",
        ),
    ];
    let mut wrong = bytes.clone();
    wrong[0] = b'X';
    for (served, needle) in cases
        .iter()
        .map(|(b, n)| (b.to_vec(), *n))
        .chain([(wrong.clone(), "sha256 mismatch")])
    {
        let source = Source::with("f.bin", &served);
        let err = store.fetch(&good, source.base()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, FixtureError::Unavailable { .. }), "{err:?}");
        assert!(
            text.contains("fixture `f`: no source could be fetched"),
            "{text}"
        );
        assert!(text.contains("file:fixtures/f.bin"), "{text}");
        assert!(text.contains(needle), "{needle:?} not in {text}");
        assert!(
            listing(store.dir()).is_empty(),
            "cache poisoned: {:?}",
            listing(store.dir())
        );
    }
    // The digest error names both digests.
    let source = Source::with("f.bin", &wrong);
    let text = store.fetch(&good, source.base()).unwrap_err().to_string();
    assert!(
        text.contains(&format!(
            "expected {}, actual {}",
            good.sha256,
            digest(&wrong)
        )),
        "{text}"
    );
}

#[test]
fn later_urls_are_tried_when_earlier_ones_fail() {
    let bytes = b"mirror".repeat(50);
    let source = Source::with("good.bin", &bytes);
    fs::write(source.base().join("fixtures/bad.bin"), b"not it").unwrap();
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let f = fixture(
        "m",
        FixtureFormat::Plain,
        &[
            "file:fixtures/missing.bin",
            "file:fixtures/bad.bin",
            "file:fixtures/good.bin",
        ],
        &bytes,
    );
    let cached = store.fetch(&f, source.base()).unwrap();
    assert_eq!(fs::read(cached).unwrap(), bytes);
}

// ---- http --------------------------------------------------------------------

/// A tiny HTTP/1.1 server on 127.0.0.1 answering one connection per response
/// in `responses`, then exiting. Counts the requests it saw.
fn serve(responses: Vec<(u16, Vec<u8>)>) -> (String, Arc<AtomicUsize>, thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "http://{}/fixtures/blocks.bin",
        listener.local_addr().unwrap()
    );
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let handle = thread::spawn(move || {
        for (status, body) in responses {
            let (mut stream, _) = listener.accept().unwrap();
            read_request(&mut stream);
            counter.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (url, seen, handle)
}

fn read_request(stream: &mut TcpStream) {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).unwrap_or(0) == 0 {
            break;
        }
        request.push(byte[0]);
    }
    assert!(
        request.starts_with(b"GET /fixtures/blocks.bin "),
        "{}",
        String::from_utf8_lossy(&request)
    );
}

#[test]
fn fetches_over_http_retrying_server_errors() {
    let bytes = b"served over http".repeat(300);
    let (url, seen, server) = serve(vec![(503, b"busy".to_vec()), (200, bytes.clone())]);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path())
        .unwrap()
        .with_retry(fast_retry(3));
    let f = fixture("http", FixtureFormat::Plain, &[&url], &bytes);
    let cached = store.fetch(&f, Path::new("/nonexistent")).unwrap();
    server.join().unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 2, "one 503, then the retry");
    assert_eq!(fs::read(cached).unwrap(), bytes);
}

#[test]
fn a_404_is_not_retried_and_is_reported() {
    let (url, seen, server) = serve(vec![(404, b"no".to_vec())]);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path())
        .unwrap()
        .with_retry(fast_retry(3));
    let f = fixture("gone", FixtureFormat::Plain, &[&url], b"x");
    let text = store.fetch(&f, Path::new("/")).unwrap_err().to_string();
    server.join().unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    assert!(text.contains(&format!("{url}: http status 404")), "{text}");
}

#[test]
fn an_unreachable_url_is_retried_then_fails_clearly() {
    // Bind to learn a free port, then close it: connections are refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/x.tar");
    let source = Source::with("other.tar", b"irrelevant");
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path())
        .unwrap()
        .with_retry(fast_retry(3));
    let f = fixture(
        "unreachable",
        FixtureFormat::Tar,
        &[&url, "file:fixtures/absent.tar"],
        b"abc",
    );

    let started = Instant::now();
    let err = store.fetch(&f, source.base()).unwrap_err();
    let text = err.to_string();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    let FixtureError::Unavailable { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(attempts.len(), 2, "{text}");
    assert_eq!(attempts[0].tries, 3, "{text}");
    assert_eq!(attempts[1].tries, 1, "{text}");
    assert!(
        text.contains("fixture `unreachable`: no source could be fetched"),
        "{text}"
    );
    assert!(text.contains(&format!("{url}: ")), "{text}");
    assert!(text.contains("(after 3 tries)"), "{text}");
    assert!(
        text.contains("file:fixtures/absent.tar: cannot open"),
        "{text}"
    );
    assert!(listing(store.dir()).is_empty());
}

// ---- unpacking -----------------------------------------------------------

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o755);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *data).unwrap();
    }
    builder.into_inner().unwrap()
}

/// Store `bytes` in a fresh cache and return (store dir guard, cached path, fixture).
fn cached(
    id: &str,
    format: FixtureFormat,
    name: &str,
    bytes: &[u8],
) -> (tempfile::TempDir, PathBuf, Fixture) {
    let source = Source::with(name, bytes);
    let state = tempfile::tempdir().unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let url = format!("file:fixtures/{name}");
    let f = fixture(id, format, &[&url], bytes);
    let path = store.fetch(&f, source.base()).unwrap();
    (state, path, f)
}

#[test]
fn unpacks_tar_into_a_fresh_directory() {
    let archive = tar_of(&[
        ("datadir/blocks/blk00000.dat", b"blocks"),
        ("datadir/bin/tool", b"#!/bin/sh\n"),
    ]);
    let (_state, path, f) = cached("dd", FixtureFormat::Tar, "dd.tar", &archive);
    let runs = tempfile::tempdir().unwrap();
    let dest = runs.path().join("run-1/fixture");
    unpack(&f, &path, &dest).unwrap();
    assert_eq!(
        fs::read(dest.join("datadir/blocks/blk00000.dat")).unwrap(),
        b"blocks"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(dest.join("datadir/bin/tool"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "executable bits kept: {mode:o}");
    assert_eq!(
        listing(&runs.path().join("run-1")),
        vec!["fixture"],
        "no staging dir left"
    );

    // A run never reuses a directory.
    let err = unpack(&f, &path, &dest).unwrap_err();
    assert!(
        matches!(err, FixtureError::DestinationExists { .. }),
        "{err:?}"
    );
}

#[test]
fn unpacks_tar_zst_written_by_ruzstd() {
    let archive = tar_of(&[("corpus/a", b"aaaa"), ("corpus/b", &[0u8; 100_000])]);
    let compressed = ruzstd::encoding::compress_to_vec(
        &archive[..],
        ruzstd::encoding::CompressionLevel::Fastest,
    );
    assert!(compressed.len() < archive.len());
    let (_state, path, f) = cached("corpus", FixtureFormat::TarZst, "c.tar.zst", &compressed);
    let dest = tempfile::tempdir().unwrap().path().join("out");
    unpack(&f, &path, &dest).unwrap();
    assert_eq!(fs::read(dest.join("corpus/a")).unwrap(), b"aaaa");
    assert_eq!(fs::read(dest.join("corpus/b")).unwrap().len(), 100_000);
}

/// Made by the reference implementation, so the decoder is not only tested
/// against its own encoder: `tar -cf - hello/ | zstd -19` (see data/README).
#[test]
fn unpacks_tar_zst_written_by_the_zstd_cli() {
    let bytes =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hello.tar.zst")).unwrap();
    let (_state, path, f) = cached("hello", FixtureFormat::TarZst, "hello.tar.zst", &bytes);
    let dest = tempfile::tempdir().unwrap().path().join("out");
    unpack(&f, &path, &dest).unwrap();
    assert_eq!(
        fs::read_to_string(dest.join("hello/greeting.txt")).unwrap(),
        "hello from zstd\n"
    );
    let link = fs::read_link(dest.join("hello/link")).unwrap();
    assert_eq!(link, Path::new("greeting.txt"));
}

#[test]
fn unpacks_a_plain_file_under_the_url_file_name() {
    let (_state, path, f) = cached("utxo", FixtureFormat::Plain, "utxo-840000.dat", b"utxo");
    let dest = tempfile::tempdir().unwrap().path().join("out");
    unpack(&f, &path, &dest).unwrap();
    assert_eq!(listing(&dest), vec!["utxo-840000.dat"]);
}

/// A raw tar entry, bypassing the builder's own path checks.
fn raw_entry(
    builder: &mut tar::Builder<Vec<u8>>,
    kind: tar::EntryType,
    path: &str,
    link: Option<&str>,
    data: &[u8],
) {
    let mut header = tar::Header::new_old();
    let name = &mut header.as_old_mut().name;
    name[..path.len()].copy_from_slice(path.as_bytes());
    if let Some(link) = link {
        let field = &mut header.as_old_mut().linkname;
        field[..link.len()].copy_from_slice(link.as_bytes());
    }
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

#[test]
fn escaping_archives_are_rejected_and_leave_nothing() {
    use tar::EntryType::{Block, Char, Fifo, Link, Regular, Symlink};
    type Entry<'a> = (tar::EntryType, &'a str, Option<&'a str>);
    let cases: Vec<(&str, Vec<Entry<'_>>, &str)> = vec![
        (
            "dotdot",
            vec![(Regular, "ok", None), (Regular, "../evil", None)],
            "path contains `..`",
        ),
        (
            "nested-dotdot",
            vec![(Regular, "a/../../evil", None)],
            "path contains `..`",
        ),
        (
            "absolute",
            vec![(Regular, "/tmp/ironworks-evil", None)],
            "path is absolute",
        ),
        (
            "symlink-abs",
            vec![(Symlink, "etc", Some("/etc"))],
            "symlink to absolute path /etc",
        ),
        (
            "symlink-up",
            vec![(Symlink, "up", Some("../.."))],
            "leaves the fixture directory",
        ),
        (
            // Each link is inside when made; writing through `x` would climb out.
            "through-link",
            vec![
                (Symlink, "x", Some("root/..")),
                (Symlink, "root", Some(".")),
                (Regular, "x/evil", None),
            ],
            "resolves outside the fixture directory",
        ),
        (
            // Each link is inside when made; `root` later makes `x` climb out.
            "late-escape",
            vec![
                (Symlink, "x", Some("root/..")),
                (Symlink, "root", Some(".")),
            ],
            "symlink resolves outside the fixture directory",
        ),
        (
            "hardlink-up",
            vec![(Link, "h", Some("../../etc/passwd"))],
            "hard link to ../../etc/passwd leaves",
        ),
        (
            "hardlink-abs",
            vec![(Link, "h", Some("/etc/passwd"))],
            "leaves the fixture directory",
        ),
        (
            "fifo",
            vec![(Fifo, "pipe", None)],
            "device and fifo entries are not allowed",
        ),
        (
            "char",
            vec![(Char, "null", None)],
            "device and fifo entries are not allowed",
        ),
        (
            "block",
            vec![(Block, "sda", None)],
            "device and fifo entries are not allowed",
        ),
    ];
    for (id, entries, needle) in cases {
        let mut builder = tar::Builder::new(Vec::new());
        for (kind, path, link) in entries {
            let data: &[u8] = if kind == Regular { b"evil" } else { b"" };
            raw_entry(&mut builder, kind, path, link, data);
        }
        let archive = builder.into_inner().unwrap();
        let (_state, path, f) = cached(id, FixtureFormat::Tar, "evil.tar", &archive);
        let runs = tempfile::tempdir().unwrap();
        let dest = runs.path().join("dest");
        let err = unpack(&f, &path, &dest).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, FixtureError::UnsafeEntry { .. }),
            "{id}: {err:?}"
        );
        assert!(text.contains(&format!("fixture `{id}`")), "{text}");
        assert!(text.contains(needle), "{id}: {needle:?} not in {text}");
        assert!(
            listing(runs.path()).is_empty(),
            "{id}: left {:?}",
            listing(runs.path())
        );
        assert!(
            !Path::new("/tmp/ironworks-evil").exists()
                && !runs.path().parent().unwrap().join("evil").exists()
        );
    }
}

#[test]
fn a_corrupt_archive_is_an_error_and_leaves_nothing() {
    let mut archive = tar_of(&[("a", &[1u8; 2000])]);
    archive.truncate(700); // cut inside the file's data
    let (_state, path, f) = cached("cut", FixtureFormat::Tar, "cut.tar", &archive);
    let runs = tempfile::tempdir().unwrap();
    let err = unpack(&f, &path, &runs.path().join("dest")).unwrap_err();
    assert!(matches!(err, FixtureError::Archive { .. }), "{err:?}");
    assert!(listing(runs.path()).is_empty());

    let (_state, path, f) = cached(
        "notzst",
        FixtureFormat::TarZst,
        "x.tar.zst",
        b"not zstd at all",
    );
    let err = unpack(&f, &path, &runs.path().join("dest")).unwrap_err();
    assert!(err.to_string().contains("cannot read archive"), "{err}");
    assert!(listing(runs.path()).is_empty());
}

// ---- a really full disk ----------------------------------------------------

/// A 1 MiB tmpfs, unmounted on drop. `None` where mounting is not allowed.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount() -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=1m", "ironworks-test"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

/// The injected-failure variant of this test (which runs everywhere) is in
/// `src/unpack.rs`; this one uses a real full filesystem where the machine
/// lets the test mount one (root with CAP_SYS_ADMIN, as on CI here).
#[test]
fn a_full_disk_neither_poisons_the_cache_nor_leaves_a_half_unpacked_run() {
    let Some(tmpfs) = Tmpfs::mount() else {
        eprintln!("skipped: cannot mount a tmpfs here; see the unit test in src/unpack.rs");
        return;
    };
    let small = tmpfs.0.path();

    // Fetch: 2 MiB into a 1 MiB cache fails as a cache error, leaving nothing.
    let big: Vec<u8> = (0..2 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let source = Source::with("big.bin", &big);
    let store = FixtureStore::open(&small.join("state")).unwrap();
    let f = fixture(
        "big",
        FixtureFormat::Plain,
        &["file:fixtures/big.bin"],
        &big,
    );
    let err = store.fetch(&f, source.base()).unwrap_err();
    assert!(matches!(err, FixtureError::Cache { .. }), "{err:?}");
    assert!(
        err.to_string().contains("No space left on device") || err.to_string().contains("space"),
        "{err}"
    );
    assert!(
        listing(store.dir()).is_empty(),
        "cache poisoned: {:?}",
        listing(store.dir())
    );

    // Unpack: the archive is cached on the big disk, the run dir is the small one.
    let archive = tar_of(&[("a", &big[..600_000]), ("b", &big[600_000..1_200_000])]);
    let (_state, path, f) = cached("full", FixtureFormat::Tar, "full.tar", &archive);
    let runs = small.join("runs");
    let err = unpack(&f, &path, &runs.join("dest")).unwrap_err();
    assert!(matches!(err, FixtureError::Unpack { .. }), "{err:?}");
    assert!(listing(&runs).is_empty(), "left {:?}", listing(&runs));
    // The cache entry is intact and still verifies.
    assert_eq!(digest(&fs::read(&path).unwrap()), f.sha256);
}

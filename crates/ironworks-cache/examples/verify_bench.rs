//! Fixture verification throughput against `sha256sum`, on the same file in
//! the same run (see `bench/fixture-verify.sh` and `docs/benchmarks.md`).
//!
//! The file is hard-linked into a fresh fixture cache as its digest, then
//! timed through `FixtureStore::verify` (the check every fetch makes before
//! use) and `sha256sum FILE`, alternating, after one untimed read of each so
//! the page cache is warm for both. Both digests must agree.
//!
//!   cargo run --release -p ironworks-cache --example verify_bench -- FILE [REPS]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use ironworks_cache::FixtureStore;
use ironworks_core::fixture::{Fixture, FixtureFormat, FixtureKind};

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(file) = args.next() else {
        eprintln!("usage: verify_bench FILE [REPS]");
        std::process::exit(2);
    };
    let reps: usize = args
        .next()
        .map_or(5, |r| r.parse().expect("REPS is a number"));
    let file = Path::new(&file);
    let size = std::fs::metadata(file).expect("readable FILE").len();

    let sha256sum = || {
        let out = Command::new("sha256sum")
            .arg(file)
            .output()
            .expect("sha256sum runs");
        assert!(out.status.success(), "sha256sum failed");
        String::from_utf8(out.stdout).unwrap()[..64].to_owned()
    };
    // Warm-up and reference digest.
    let digest = sha256sum();

    let state = tempfile::tempdir_in(file.parent().unwrap_or(Path::new("."))).unwrap();
    let store = FixtureStore::open(state.path()).unwrap();
    let fixture = Fixture {
        id: "bench".into(),
        kind: FixtureKind::Blocks,
        urls: vec!["file:bench.bin".into()],
        sha256: digest.clone(),
        size,
        format: FixtureFormat::Plain,
        expect: BTreeMap::new(),
    };
    std::fs::hard_link(file, store.entry_path(&fixture)).expect("hard link into the cache");
    let verify = || {
        store
            .verify(&fixture)
            .expect("verifies")
            .expect("entry present");
    };
    verify(); // warm-up; also proves both agree on the digest

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        verify();
        ours.push(t.elapsed());
        let t = Instant::now();
        assert_eq!(sha256sum(), digest);
        theirs.push(t.elapsed());
    }
    let mbs = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    let report = |name: &str, times: &mut Vec<Duration>| {
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "{name:<22} median {:>7.1} MB/s  best {:>7.1} MB/s  ({} runs, median {:.3} s)",
            mbs(median),
            mbs(times[0]),
            times.len(),
            median.as_secs_f64()
        );
        median
    };
    println!("file: {} ({size} bytes), sha256 {digest}", file.display());
    let a = report("ironworks verify", &mut ours);
    let b = report("sha256sum", &mut theirs);
    println!(
        "ratio (ironworks / sha256sum throughput, medians): {:.2}",
        b.as_secs_f64() / a.as_secs_f64()
    );

    // The hash alone, without reading the file: how much of the time is IO.
    let buffer = vec![0x5au8; 256 << 20];
    let mut memory = Vec::new();
    for _ in 0..reps {
        let t = Instant::now();
        let (n, _) = ironworks_cache::sha256_reader(&mut &buffer[..]).unwrap();
        memory.push(t.elapsed());
        assert_eq!(n, buffer.len() as u64);
    }
    memory.sort();
    println!(
        "sha256 in memory       median {:>7.1} MB/s  (256 MiB buffer, no IO)",
        buffer.len() as f64 / 1e6 / memory[memory.len() / 2].as_secs_f64()
    );
}

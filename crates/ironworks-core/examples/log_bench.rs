//! Log analyzer benchmark (docs/benchmarks.md, bench/log-analyzer.sh).
//!
//! Generates a deterministic synthetic corpus of CI logs (build, test and
//! node output with timestamps, hashes, temp paths, progress counters and
//! colours), learns 200 passed logs of 20 000 lines, then extracts from 50
//! failed logs that each carry one known injected error block (and a few
//! genuinely new ordinary lines, as a PR adding tests would), and reports
//! learn throughput, extract time, index size, recall and precision.
//!
//!   cargo run --release -p ironworks-core --example log_bench
//!   cargo run --release -p ironworks-core --example log_bench -- --passed 200 --failed 50 --lines 20000
//!   cargo run --release -p ironworks-core --example log_bench -- gen --lines 10500000 --seed 7 [--fail] > big.log
//!
//! `LOG_BENCH_SHOW=1` prints the reported unusual lines that are not injected.

use std::io::Write as _;
use std::time::{Duration, Instant};

use ironworks_core::logs::{ExtractOptions, Extractor, LogIndex};

/// splitmix64: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn hex(&mut self, digits: usize) -> String {
        let mut s = String::with_capacity(digits);
        while s.len() < digits {
            s.push_str(&format!("{:016x}", self.next()));
        }
        s.truncate(digits);
        s
    }
    fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

const CRATES: &[&str] = &[
    "serde",
    "tokio",
    "libc",
    "memchr",
    "regex",
    "syn",
    "quote",
    "proc-macro2",
    "clap",
    "rand",
    "bitcoin",
    "secp256k1",
    "hashbrown",
    "itoa",
    "ryu",
    "log",
    "tracing",
    "bytes",
    "mio",
    "rusqlite",
    "sha2",
    "digest",
    "anyhow",
    "thiserror",
    "once_cell",
    "smallvec",
    "futures",
    "hex",
    "base64",
    "toml",
];
const MODULES: &[&str] = &[
    "validation",
    "net_processing",
    "txmempool",
    "wallet::coinselection",
    "script::interpreter",
    "consensus::merkle",
    "addrman",
    "blockfilter",
    "coins_view",
    "crypto::sha256",
    "policy::fees",
    "rpc::blockchain",
    "node::miner",
    "util::strencodings",
    "bloom",
    "descriptor",
    "headers_sync",
    "key_io",
    "pow",
    "txrequest",
];
const VERBS: &[&str] = &[
    "accepts",
    "rejects",
    "handles",
    "round_trips",
    "parses",
    "serializes",
    "evicts",
    "orders",
    "limits",
    "relays",
    "signs",
    "verifies",
    "reorgs",
    "prunes",
    "caches",
];
const NOUNS: &[&str] = &[
    "empty_block",
    "large_tx",
    "dust_output",
    "orphan",
    "witness",
    "headers",
    "segwit_v1",
    "taproot_spend",
    "bip125_replacement",
    "coinbase",
    "locktime",
    "sequence",
    "sighash_all",
    "p2wpkh",
    "compact_blocks",
    "addr_v2",
    "inv_batch",
    "feefilter",
    "mempool_full",
    "stale_tip",
];
const SOURCES: &[&str] = &[
    "validation",
    "net",
    "net_processing",
    "txmempool",
    "init",
    "addrman",
    "script/interpreter",
    "wallet/wallet",
    "wallet/spend",
    "node/miner",
    "rpc/blockchain",
    "policy/fees",
    "index/txindex",
    "dbwrapper",
    "util/system",
    "crypto/sha256",
    "kernel/chain",
];
const CATEGORIES: &[&str] = &[
    "net",
    "mempool",
    "validation",
    "bench",
    "rpc",
    "coindb",
    "leveldb",
];

fn timestamp(rng: &mut Rng, base: u64, i: usize) -> String {
    let s = base + i as u64 / 40;
    format!(
        "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        base % 12 + 1,
        base % 28 + 1,
        (s / 3600) % 24,
        (s / 60) % 60,
        s % 60,
        rng.below(1_000_000)
    )
}

/// One ordinary line of a CI log. `extra_tests` adds never-seen test names
/// (a PR adding tests) with that probability per test line, per 10 000.
fn ordinary(rng: &mut Rng, base: u64, i: usize, tmp: &str, extra_tests: u64) -> String {
    let ts = timestamp(rng, base, i);
    match rng.below(100) {
        0..=29 => {
            let (m, v, n) = (rng.pick(MODULES), rng.pick(VERBS), rng.pick(NOUNS));
            let suffix = if extra_tests > 0 && rng.below(10_000) < extra_tests {
                format!(
                    "_{}",
                    rng.pick(&["regression", "fuzzed", "edge", "v2", "legacy"])
                ) + "_new_case"
            } else {
                String::new()
            };
            format!(
                "test {m}::tests::{v}_{n}{suffix} ... \x1b[32mok\x1b[0m <{}.{:03}s>",
                rng.below(3),
                rng.below(1000)
            )
        }
        30..=44 => format!(
            "{ts} [{}] {} peer={} {}",
            rng.pick(CATEGORIES),
            rng.pick(&[
                "received: headers (162 bytes)",
                "sending getdata (37 bytes)",
                "AcceptToMemoryPool: accepted",
                "Pre-allocating up to position 0x100000 in rev00000.dat",
                "Flushed fee estimates to fee_estimates.dat",
                "connection established",
                "disconnecting peer",
            ]),
            rng.below(64),
            rng.hex(64)
        ),
        45..=54 => format!(
            "{ts} UpdateTip: new best={} height={} version=0x{:08x} log2_work={}.{:06} tx={} date='{}' progress={}.{:06} cache={}.{}MiB({}txo)",
            rng.hex(64),
            rng.below(900_000),
            0x2000_0000u64 + rng.below(16),
            60 + rng.below(40),
            rng.below(1_000_000),
            rng.below(1_000_000_000),
            timestamp(rng, base + 99, i),
            rng.below(2),
            rng.below(1_000_000),
            rng.below(500),
            rng.below(10),
            rng.below(2_000_000)
        ),
        55..=64 => format!(
            "[{}/{}] Building CXX object src/CMakeFiles/bitcoin_node.dir/{}.cpp.o",
            rng.below(900) + 1,
            900 + rng.below(5),
            rng.pick(SOURCES)
        ),
        65..=71 => format!(
            "\x1b[1m\x1b[32m   Compiling\x1b[0m {} v{}.{}.{} ({}/vendor/{})",
            rng.pick(CRATES),
            rng.below(3),
            rng.below(30),
            rng.below(20),
            tmp,
            rng.pick(CRATES)
        ),
        72..=77 => format!(
            "     Running unittests src/lib.rs ({}/target/debug/deps/{}-{})",
            tmp,
            rng.pick(CRATES).replace('-', "_"),
            rng.hex(16)
        ),
        78..=83 => format!(
            "{:>3}/{} Test #{:>3}: {}_tests .....................   Passed    {}.{:02} sec",
            rng.below(300) + 1,
            300,
            rng.below(300) + 1,
            rng.pick(SOURCES).replace('/', "_"),
            rng.below(60),
            rng.below(100)
        ),
        84..=88 => format!(
            "Downloading {}.tar.gz [{}%] {} KiB/s\r{}.tar.gz [100%] done",
            rng.pick(CRATES),
            rng.below(100),
            rng.below(90_000),
            rng.pick(CRATES)
        ),
        89..=92 => format!(
            "ccache: hits {} misses {} ({}.{}% hit rate) in {}/ccache, request {}",
            rng.below(10_000),
            rng.below(1000),
            rng.below(100),
            rng.below(10),
            tmp,
            rng.token(22)
        ),
        93..=95 => format!(
            "#{} [builder {}/{}] RUN apt-get install -y --no-install-recommends {}",
            rng.below(40),
            rng.below(12) + 1,
            12,
            rng.pick(&[
                "clang",
                "cmake",
                "ninja-build",
                "libboost-dev",
                "pkg-config",
                "python3"
            ])
        ),
        96..=97 => format!(
            "HEAD is now at {} Merge #{}: {}",
            rng.hex(12),
            rng.below(30_000),
            rng.pick(&[
                "net: fix race",
                "wallet: refactor",
                "doc: typo",
                "test: speed up"
            ])
        ),
        _ => String::new(),
    }
}

/// A known error block, one of several kinds, with varying details.
fn injected(rng: &mut Rng, tmp: &str) -> Vec<String> {
    let module = rng.pick(MODULES);
    let source = rng.pick(SOURCES);
    let line = rng.below(4000) + 1;
    match rng.below(8) {
        0 => {
            let mut block = vec![
                format!(
                    "thread '{module}::tests::{}_{}' panicked at src/{source}.rs:{line}:{}:",
                    rng.pick(VERBS),
                    rng.pick(NOUNS),
                    rng.below(40) + 1
                ),
                "assertion `left == right` failed: chain tip mismatch".to_owned(),
                format!("  left: {}", rng.hex(64)),
                format!(" right: {}", rng.hex(64)),
                "stack backtrace:".to_owned(),
            ];
            for frame in 0..rng.below(5) + 3 {
                block.push(format!(
                    "  {frame:>2}: {}::{}",
                    rng.pick(CRATES).replace('-', "_"),
                    rng.pick(VERBS)
                ));
                block.push(format!(
                    "             at {tmp}/src/{}.rs:{}:{}",
                    rng.pick(SOURCES),
                    rng.below(900),
                    rng.below(40)
                ));
            }
            block
        }
        1 => vec![
            "error[E0308]: mismatched types".to_owned(),
            format!("   --> src/{source}.rs:{line}:{}", rng.below(80)),
            "    |".to_owned(),
            format!("{line:>3} |     let height: u32 = block.header.time;"),
            "    |                 ---   ^^^^^^^^^^^^^^^^^ expected `u32`, found `i64`".to_owned(),
            "    |                 |".to_owned(),
            "    |                 expected due to this".to_owned(),
            format!(
                "error: could not compile `{}` (lib) due to 1 previous error",
                rng.pick(CRATES)
            ),
        ],
        2 => {
            let mut block = vec![
                format!(
                    "=={}==ERROR: AddressSanitizer: SEGV on unknown address 0x{:012x} (pc 0x{} bp 0x{} sp 0x{} T0)",
                    rng.below(99_999),
                    rng.below(4096),
                    rng.hex(12),
                    rng.hex(12),
                    rng.hex(12)
                ),
                "==1==The signal is caused by a READ memory access.".to_owned(),
            ];
            for frame in 0..rng.below(4) + 3 {
                block.push(format!(
                    "    #{frame} 0x{} in {}::{}() src/{}.cpp:{}",
                    rng.hex(12),
                    rng.pick(&["CTxMemPool", "CChainState", "PeerManagerImpl", "CConnman"]),
                    rng.pick(&[
                        "check",
                        "removeRecursive",
                        "ProcessMessage",
                        "ActivateBestChain"
                    ]),
                    rng.pick(SOURCES),
                    rng.below(3000)
                ));
            }
            block.push(format!(
                "/bin/bash: line 1: {} Segmentation fault      (core dumped) ./src/test/test_bitcoin --run_test={}_tests",
                rng.below(99_999),
                source.replace('/', "_")
            ));
            block
        }
        3 => vec![
            format!(
                "test_bitcoin: src/{source}.cpp:{line}: bool CChainState::ConnectBlock(const CBlock&, BlockValidationState&): Assertion `pindex->nChainWork > 0' failed."
            ),
            format!("Aborted (core dumped) after {} test cases", rng.below(900)),
            format!(
                "*** {} failure is detected in the test module \"Bitcoin Core Test Suite\"",
                rng.below(9) + 1
            ),
        ],
        4 => vec![
            "Traceback (most recent call last):".to_owned(),
            format!(
                "  File \"{tmp}/test/functional/test_framework/test_framework.py\", line {}, in main",
                rng.below(900)
            ),
            "    self.run_test()".to_owned(),
            format!(
                "  File \"{tmp}/test/functional/feature_{}.py\", line {line}, in run_test",
                rng.pick(&["pruning", "assumeutxo", "block", "fee_estimation"])
            ),
            "    assert_equal(node.getblockcount(), expected)".to_owned(),
            format!(
                "AssertionError: not({} == {})",
                rng.below(900),
                rng.below(900)
            ),
            format!("{} Stopping nodes", timestamp(rng, 5, 0)),
        ],
        5 => vec![
            format!(
                "--- FAIL: Test{}{} ({}.{:02}s)",
                rng.pick(&["Blockchain", "Mempool", "Peer", "Txscript"]),
                rng.pick(&["Reorg", "Accept", "Orphan", "Sigcache"]),
                rng.below(9),
                rng.below(100)
            ),
            format!(
                "    {}_test.go:{line}: expected height {}, got {}",
                rng.pick(&["chain", "mempool", "peer", "script"]),
                rng.below(1000),
                rng.below(1000)
            ),
            "FAIL".to_owned(),
            format!(
                "FAIL\tgithub.com/btcsuite/btcd/{}\t{}.{:03}s",
                rng.pick(&["blockchain", "mempool", "peer", "txscript"]),
                rng.below(20),
                rng.below(1000)
            ),
        ],
        6 => vec![
            format!(
                "/usr/bin/ld: libbitcoin_node.a({}.o): in function `CConnman::Start(CScheduler&, CConnman::Options const&)':",
                source.replace('/', "_")
            ),
            format!(
                "{source}.cpp:(.text+0x{}): undefined reference to `MapPort(bool, bool)'",
                rng.hex(4)
            ),
            "collect2: error: ld returned 1 exit status".to_owned(),
            format!(
                "ninja: build stopped: subcommand failed after {} steps.",
                rng.below(900)
            ),
        ],
        _ => vec![
            format!(
                "{} | feature_{}.py | ✖ Failed (Timeout) | {} s",
                timestamp(rng, 3, 0),
                rng.pick(&["pruning", "assumeutxo", "dbcrash", "index_prune"]),
                300 + rng.below(100)
            ),
            format!(
                "test timed out after {} seconds; remaining jobs: [feature_{}.py]",
                300 + rng.below(100),
                rng.pick(&["pruning", "assumeutxo", "dbcrash", "index_prune"])
            ),
            "Early exiting after failure in TestFramework".to_owned(),
        ],
    }
}

struct Log {
    text: Vec<u8>,
    /// 1-based line numbers of the injected block.
    injected: Option<(u64, u64)>,
}

fn generate(seed: u64, lines: usize, fail: bool, extra_tests: u64) -> Log {
    let mut rng = Rng(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x1234_5678);
    let base = rng.below(1_000_000);
    let tmp = format!("/tmp/.tmp{}", rng.token(6));
    let mut text = Vec::with_capacity(lines * 110);
    let at = if fail {
        Some(lines / 4 + rng.below(lines as u64 / 2) as usize)
    } else {
        None
    };
    let mut injected = None;
    let mut written = 0u64;
    for i in 0..lines {
        if Some(i) == at {
            let block = injected_block(&mut rng, &tmp);
            injected = Some((written + 1, written + block.len() as u64));
            for line in block {
                text.extend_from_slice(line.as_bytes());
                text.push(b'\n');
                written += 1;
            }
        }
        text.extend_from_slice(ordinary(&mut rng, base, i, &tmp, extra_tests).as_bytes());
        text.push(b'\n');
        written += 1;
    }
    Log { text, injected }
}

fn injected_block(rng: &mut Rng, tmp: &str) -> Vec<String> {
    injected(rng, tmp)
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("gen") {
        gen_big(&args);
        return;
    }
    let passed = arg(&args, "--passed", 200);
    let failed = arg(&args, "--failed", 50);
    let lines = arg(&args, "--lines", 20_000) as usize;
    // A few never-seen test names per failed log (0.5‰ of test lines: about
    // three per log, as a PR adding tests would print).
    let extra = arg(&args, "--new-tests-per-10k", 5);

    let mut index = LogIndex::default();
    let mut learn_time = Duration::ZERO;
    let mut learn_bytes = 0u64;
    for seed in 0..passed {
        let log = generate(seed, lines, false, 0);
        let start = Instant::now();
        let stats = index.learn_text(&log.text);
        learn_time += start.elapsed();
        learn_bytes += stats.bytes;
    }
    let index_bytes = index.to_bytes();

    let options = ExtractOptions::default();
    let mut extract_times = Vec::new();
    let mut recalled = 0;
    let (mut reported_lines, mut injected_reported, mut unusual_reported, mut unusual_injected) =
        (0usize, 0usize, 0usize, 0usize);
    let (mut blocks, mut blocks_on_target) = (0usize, 0usize);
    let mut max_lines = 0;
    let mut at_cap = 0;
    for seed in 0..failed {
        let log = generate(1_000_000 + seed, lines, true, extra);
        let (first, last) = log.injected.expect("failed logs have a block");
        let start = Instant::now();
        let found = Extractor::extract_text(&index, options, &log.text);
        extract_times.push(start.elapsed());
        let numbers: Vec<(u64, bool)> = found
            .blocks
            .iter()
            .flat_map(|b| b.lines.iter().map(|l| (l.number, l.unusual)))
            .collect();
        let inside = |n: u64| (first..=last).contains(&n);
        if (first..=last).all(|n| numbers.iter().any(|&(m, _)| m == n)) {
            recalled += 1;
        } else {
            eprintln!("missed block {first}-{last} in failed log {seed}: {found:#?}");
        }
        if std::env::var_os("LOG_BENCH_SHOW").is_some() {
            for block in &found.blocks {
                for line in block
                    .lines
                    .iter()
                    .filter(|l| l.unusual && !inside(l.number))
                {
                    eprintln!("extra unusual line {}: {}", line.number, line.text);
                }
            }
        }
        reported_lines += numbers.len();
        max_lines = max_lines.max(numbers.len());
        if numbers.len() >= options.max_lines {
            at_cap += 1;
        }
        injected_reported += numbers.iter().filter(|&&(n, _)| inside(n)).count();
        unusual_reported += numbers.iter().filter(|&&(_, u)| u).count();
        unusual_injected += numbers.iter().filter(|&&(n, u)| u && inside(n)).count();
        blocks += found.blocks.len();
        blocks_on_target += found
            .blocks
            .iter()
            .filter(|b| b.first_line <= last && b.last_line >= first)
            .count();
    }
    extract_times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mean_extract = extract_times.iter().map(|d| ms(*d)).sum::<f64>() / failed.max(1) as f64;
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!("log analyzer benchmark: {passed} passed logs + {failed} failed logs × {lines} lines");
    println!(
        "learn: {:.1} MB in {:.2} s = {:.0} MB/s (one core)",
        learn_bytes as f64 / 1e6,
        learn_time.as_secs_f64(),
        learn_bytes as f64 / 1e6 / learn_time.as_secs_f64()
    );
    println!(
        "index: {} lines, {} bytes serialised ({:.2} MiB), capacity {}, evicted {}",
        index.len(),
        index_bytes.len(),
        index_bytes.len() as f64 / (1 << 20) as f64,
        index.capacity(),
        index.evicted()
    );
    println!(
        "extract: mean {:.2} ms/log, median {:.2} ms, max {:.2} ms",
        mean_extract,
        ms(extract_times[extract_times.len() / 2]),
        ms(*extract_times.last().expect("at least one"))
    );
    println!(
        "recall: {recalled}/{failed} injected blocks fully reported ({:.0}%)",
        pct(recalled, failed as usize)
    );
    println!(
        "precision: lines {:.1}% ({injected_reported}/{reported_lines} reported lines are injected), unusual lines {:.1}% ({unusual_injected}/{unusual_reported}), blocks {:.1}% ({blocks_on_target}/{blocks})",
        pct(injected_reported, reported_lines),
        pct(unusual_injected, unusual_reported),
        pct(blocks_on_target, blocks)
    );
    println!(
        "lines reported per failed log: mean {:.1}, max {max_lines}, {at_cap} logs at the {}-line cap",
        reported_lines as f64 / failed.max(1) as f64,
        options.max_lines
    );
}

/// `gen --lines N --seed S [--fail]`: one log to stdout, streamed.
fn gen_big(args: &[String]) {
    let lines = arg(args, "--lines", 1_000_000) as usize;
    let seed = arg(args, "--seed", 1);
    let fail = args.iter().any(|a| a == "--fail");
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let per = 100_000.min(lines.max(1));
    let mut done = 0;
    let mut part = 0;
    while done < lines {
        let n = per.min(lines - done);
        // The failure goes into the middle part only.
        let middle = fail && part == (lines / per) / 2;
        let log = generate(seed * 1_000_003 + part as u64, n, middle, 0);
        out.write_all(&log.text).expect("stdout");
        done += n;
        part += 1;
    }
    out.flush().expect("stdout");
}

use super::*;

fn norm(line: &str) -> String {
    let mut out = Vec::new();
    normalize(line.as_bytes(), &mut out);
    String::from_utf8(out).unwrap()
}

fn same(a: &str, b: &str) {
    assert_eq!(norm(a), norm(b), "{a:?} and {b:?} should normalise alike");
}

fn differ(a: &str, b: &str) {
    assert_ne!(norm(a), norm(b), "{a:?} and {b:?} should stay apart");
}

#[test]
fn timestamps_and_numbers_do_not_make_a_line_new() {
    same(
        "2026-11-21T09:42:04.123Z INFO started worker 7",
        "2025-01-02T23:00:59.999Z INFO started worker 12",
    );
    assert_eq!(
        norm("2026-11-21T09:42:04.123Z INFO started"),
        "0-0-0T0:0:0.0Z INFO started"
    );
    same("[  12.345s] test ok", "[ 0.001s]   test ok");
    same(
        "Compiling serde v1.0.197 (took 12ms)",
        "Compiling serde v1.0.210 (took 3ms)",
    );
    same("test_42 passed", "test_7 passed");
}

#[test]
fn hex_ids_and_hashes_become_one_token() {
    same(
        "HEAD is now at 3f2a9c1 fix the thing",
        "HEAD is now at 9e0b1d4c7a fix the thing",
    );
    same("object 0x7ffd3c2a10 freed", "object 0xdeadbeef freed");
    same(
        "container 4f9d2e1c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e started",
        "container 0123456789abcdef0123456789abcdef01234567 started",
    );
    same(
        "id 550e8400-e29b-41d4-a716-446655440000",
        "id 123e4567-e89b-12d3-a456-426614174000",
    );
    same("request id Xk2aB9qZ done", "request id aZ09mmPq done");
    same(
        "token 4fGq7Tz0pL1mN8vB3cX6 ok",
        "token Zz0000000000000000aa ok",
    );
    // Digits inside names go too: a known, accepted loss.
    same("sha256 of x86 v2", "sha512 of x64 v3");
    same(
        "request wUBogmyQmgZXonVJEyHyNR",
        "request dGpNNZsQYOosduYguiPuaN",
    );
    assert_eq!(
        norm("ConnectBlockHeaderValidation XMLHttpRequestFactory"),
        "ConnectBlockHeaderValidation XMLHttpRequestFactory"
    );
    // Words without a digit are words, even when made of hex letters.
    differ("a bad cafe", "a fed cafe");
    assert_eq!(norm("deadbeef face"), "deadbeef face");
}

#[test]
fn ansi_escapes_and_progress_rewrites_are_dropped() {
    same("\x1b[1m\x1b[32m   Compiling\x1b[0m foo", "Compiling foo");
    same("\x1b]0;title\x07done", "done");
    same("progress 10%\rprogress 50%\rdone 3 files", "done 9 files");
    same("line with crlf\r", "line with crlf");
    assert_eq!(strip_ansi(b"\x1b[31merror\x1b[0m: x"), b"error: x");
}

#[test]
fn absolute_paths_keep_only_their_last_component() {
    same(
        "Compiling foo (/tmp/.tmpXk2aB9/work/foo)",
        "Compiling foo (/home/ci/builds/77/foo)",
    );
    same(
        "--> /tmp/.tmpAb12/src/lib.rs:12:5",
        "--> /build/x/src/lib.rs:40:1",
    );
    differ("--> /a/src/lib.rs:12:5", "--> /a/src/main.rs:12:5");
    same("cd /tmp/tmp.X9aQ2", "cd /var/tmp/tmp.77Zzq");
    same("wrote /tmp/.tmp4aZ", "wrote /tmp/.tmpQQ9");
    // Not paths: relative paths, fractions, a lone slash.
    assert_eq!(norm("src/lib.rs and 3/4 a / b"), "src/lib.rs and 0/0 a / b");
}

#[test]
fn whitespace_is_collapsed_and_blank_lines_have_no_key() {
    same("  a\t\tb  ", "a b");
    let mut scratch = Vec::new();
    assert_eq!(line_key(b"", &mut scratch), None);
    assert_eq!(line_key(b"  ---- \t", &mut scratch), None);
    assert!(line_key(b"x", &mut scratch).is_some());
}

#[test]
fn non_utf8_bytes_are_handled() {
    let mut out = Vec::new();
    normalize(b"caf\xe9 \xff\xfe 42 done", &mut out);
    assert_eq!(out, b"caf\xe9 \xff\xfe 0 done");
    let mut index = LogIndex::new(64);
    index.learn_text(b"caf\xe9 ok\n");
    let failed = b"caf\xe9 ok\nbroken \xff\xfe\xfd error\n";
    let found = Extractor::extract_text(&index, ExtractOptions::default(), failed);
    assert_eq!(found.blocks.len(), 1);
    let line = &found.blocks[0].lines[1];
    let shown = Extractor::extract_text(
        &index,
        ExtractOptions::default(),
        b"\x1b[31mfail 10%\rfail 100%\x1b[0m\r\n",
    );
    assert_eq!(shown.blocks[0].lines[0].text, "fail 100%");
    assert!(line.unusual);
    assert_eq!(line.text, "broken \u{fffd}\u{fffd}\u{fffd} error");
}

#[test]
fn hash_is_stable_and_spreads() {
    // Stored indexes depend on these exact values.
    assert_eq!(hash_bytes(b""), hash_bytes(b""));
    assert_ne!(hash_bytes(b"a"), hash_bytes(b"b"));
    assert_ne!(hash_bytes(b"abcdefgh"), hash_bytes(b"abcdefgh\0"));
    let mut seen = std::collections::HashSet::new();
    for i in 0..100_000u32 {
        assert!(seen.insert(hash_bytes(format!("line {i}").as_bytes())));
    }
}

fn noise(run: u32, lines: u32) -> String {
    let mut text = String::new();
    for i in 0..lines {
        text.push_str(&format!(
            "2026-11-{:02}T10:{:02}:{:02}Z test module_{}::case ... ok ({}ms) at /tmp/.tmp{run}x/{i}\n",
            run % 28 + 1,
            i % 60,
            (i * 7 + run) % 60,
            i % 5,
            (i * 13 + run) % 900
        ));
    }
    text
}

#[test]
fn learning_counts_each_log_once_per_line() {
    let mut index = LogIndex::new(1024);
    let stats = index.learn_text(b"a 1\na 2\nb\n");
    assert_eq!(stats.lines, 3);
    assert_eq!(stats.new_lines, 2);
    index.learn_text(b"a 3\n");
    let mut scratch = Vec::new();
    let a = line_key(b"a 9", &mut scratch).unwrap();
    let b = line_key(b"b", &mut scratch).unwrap();
    assert_eq!(index.logs_with(a), 2);
    assert_eq!(index.logs_with(b), 1);
    assert_eq!(index.logs_learned(), 2);
}

#[test]
fn extraction_finds_the_error_and_not_the_noise() {
    let mut index = LogIndex::default();
    for run in 0..5 {
        index.learn_text(noise(run, 200).as_bytes());
    }
    let mut failed = noise(9, 100);
    failed.push_str("thread 'main' panicked at src/lib.rs:42:5:\n");
    failed.push_str("assertion `left == right` failed\n  left: 1\n right: 2\n");
    failed.push_str(&noise(10, 100));
    let found = Extractor::extract_text(&index, ExtractOptions::default(), failed.as_bytes());
    assert_eq!(found.lines, 204);
    assert_eq!(found.unusual_lines, 4, "{found:#?}");
    assert_eq!(found.blocks.len(), 1);
    let block = &found.blocks[0];
    assert_eq!((block.first_line, block.last_line), (99, 106));
    assert_eq!(block.rank, 1);
    let unusual: Vec<&str> = block
        .lines
        .iter()
        .filter(|l| l.unusual)
        .map(|l| l.text.as_str())
        .collect();
    assert_eq!(
        unusual,
        [
            "thread 'main' panicked at src/lib.rs:42:5:",
            "assertion `left == right` failed",
            "  left: 1",
            " right: 2"
        ]
    );
    assert_eq!(block.lines.iter().filter(|l| !l.unusual).count(), 4);
}

#[test]
fn close_blocks_merge_and_far_blocks_do_not() {
    let index = LogIndex::default();
    let mut learned = index.clone();
    learned.learn_text(b"ok\n");
    // Unusual lines at 3 and 6 (gap of 2 ordinary lines): one block. At 20: another.
    let mut log = String::new();
    for i in 1..=30 {
        log.push_str(match i {
            3 => "error one\n",
            6 => "error two\n",
            20 => "error three\n",
            _ => "ok\n",
        });
    }
    let found = Extractor::extract_text(&learned, ExtractOptions::default(), log.as_bytes());
    let spans: Vec<(u64, u64)> = found
        .blocks
        .iter()
        .map(|b| (b.first_line, b.last_line))
        .collect();
    assert_eq!(spans, [(1, 8), (18, 22)]);
    assert_eq!(found.blocks_found, 2);
    // Two error lines outscore one.
    assert_eq!(found.blocks[0].rank, 1);
    assert_eq!((found.blocks[0].score, found.blocks[1].score), (18, 9));
    // On a tie, the later block wins.
    let tie = "error one\nok\nok\nok\nok\nok\nok\nerror two\nok\n";
    let found = Extractor::extract_text(&learned, ExtractOptions::default(), tie.as_bytes());
    assert_eq!(found.blocks.len(), 2);
    assert_eq!(found.blocks[1].rank, 1);
}

#[test]
fn the_line_cap_keeps_the_error_block() {
    let mut index = LogIndex::default();
    index.learn_text(b"ok\n");
    let mut log = String::new();
    // Forty unrelated new lines, far apart, then one panic.
    for i in 0..40 {
        log.push_str(&format!(
            "new thing {}\n",
            ["alpha", "beta", "gamma", "delta", "eps"][i % 5].repeat(i / 5 + 1)
        ));
        log.push_str(&"ok\n".repeat(10));
    }
    log.push_str("thread 'x' panicked at 'boom'\nok\n");
    let options = ExtractOptions::default();
    let found = Extractor::extract_text(&index, options, log.as_bytes());
    let total: usize = found.blocks.iter().map(|b| b.lines.len()).sum();
    assert!(total <= options.max_lines, "{total}");
    let best = found.blocks.iter().find(|b| b.rank == 1).unwrap();
    assert!(best.lines.iter().any(|l| l.text.contains("panicked")));
    assert_eq!(found.blocks_found, 41);
}

#[test]
fn a_runaway_block_is_cut_and_repeats_score_nothing() {
    let index = LogIndex::default();
    let mut log = "same noisy line\n".repeat(500);
    log.push_str("segmentation fault (core dumped)\n");
    log.push_str(&"same noisy line\n".repeat(100));
    let found = Extractor::extract_text(&index, ExtractOptions::default(), log.as_bytes());
    let best = found.blocks.iter().find(|b| b.rank == 1).unwrap();
    assert!(
        best.lines
            .iter()
            .any(|l| l.text.contains("segmentation fault")),
        "{found:#?}"
    );
    let total: usize = found.blocks.iter().map(|b| b.lines.len()).sum();
    assert!(total <= 40);
}

#[test]
fn the_index_stays_within_capacity_and_evicts_deterministically() {
    let build = || {
        let mut index = LogIndex::new(100);
        // A line in every log survives; one-off lines are evicted first.
        for log in 0..50 {
            let mut text = String::from("always here\n");
            for i in 0..20 {
                text.push_str(&format!(
                    "one-off line {}\n",
                    ["a", "b", "c", "d"][i % 4].repeat(log * 20 + i + 1)
                ));
            }
            index.learn_text(text.as_bytes());
            assert!(index.len() <= 100);
        }
        index
    };
    let index = build();
    assert!(index.evicted() > 0);
    let mut scratch = Vec::new();
    assert_eq!(
        index.logs_with(line_key(b"always here", &mut scratch).unwrap()),
        50
    );
    assert_eq!(index.to_bytes(), build().to_bytes());
}

#[test]
fn the_index_round_trips_through_bytes() {
    let mut index = LogIndex::new(500);
    index.learn_text(noise(1, 50).as_bytes());
    index.learn_text(noise(2, 50).as_bytes());
    let bytes = index.to_bytes();
    let back = LogIndex::from_bytes(&bytes).unwrap();
    assert_eq!(back.to_bytes(), bytes);
    assert_eq!(back.len(), index.len());
    assert_eq!(back.logs_learned(), 2);
    assert_eq!(back.capacity(), 500);
    assert_eq!(
        LogIndex::from_bytes(b"nope").unwrap_err(),
        IndexDecodeError::Magic
    );
    assert!(matches!(
        LogIndex::from_bytes(&bytes[..bytes.len() - 3]),
        Err(IndexDecodeError::Truncated { .. })
    ));
    let mut other = bytes.clone();
    other[4] = 9;
    assert_eq!(
        LogIndex::from_bytes(&other).unwrap_err(),
        IndexDecodeError::Version(9)
    );
}

#[test]
fn lines_are_split_across_chunks_with_a_cap() {
    let mut splitter = LineSplitter::new(8);
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for chunk in [&b"ab"[..], b"c\nde", b"f\n\n0123456789abc", b"def\nlast"] {
        splitter.feed(chunk, |l| lines.push(l.to_vec()));
    }
    splitter.finish(|l| lines.push(l.to_vec()));
    let expected: [&[u8]; 5] = [b"abc", b"def", b"", b"01234567", b"last"];
    assert_eq!(lines, expected);
    // Fast path: a long line inside one chunk is cut too.
    let mut lines = Vec::new();
    let mut splitter = LineSplitter::new(4);
    splitter.feed(b"abcdefgh\nxy\n", |l| lines.push(l.to_vec()));
    splitter.finish(|l| lines.push(l.to_vec()));
    assert_eq!(lines, [b"abcd".to_vec(), b"xy".to_vec()]);
}

#[test]
fn an_empty_log_has_no_blocks() {
    let index = LogIndex::default();
    let found = Extractor::extract_text(&index, ExtractOptions::default(), b"");
    assert_eq!(found, Extraction::default());
}

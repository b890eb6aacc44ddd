//! Fuzzing, as pure decisions over what a libFuzzer-style binary printed.
//!
//! The `fuzz` job kind follows Bitcoin Core's conventions: one binary holds
//! every target, `FUZZ=<target>` selects one, and with
//! `PRINT_ALL_FUZZ_TARGETS_AND_ABORT` set it prints the target names, one a
//! line, and exits. This module owns reading that output: the target list,
//! the run statistics (`stat::…` lines from `-print_final_stats=1` and the
//! `#N DONE cov: … ft: … corp: …` status lines), the merge summary, and crash
//! logs. A crash log becomes a [`CrashReport`] (kind and normalised stack), a
//! report becomes a [`CrashSignature`] `(target, crash type, top 3 frames)`,
//! and [`KnownCrashes`] says whether a signature is new. Running the binary is
//! the job of `ironworks_exec::fuzz`.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The environment variable that selects the target.
pub const TARGET_ENV: &str = "FUZZ";
/// The environment variable that makes the binary list its targets and exit.
pub const LIST_TARGETS_ENV: &str = "PRINT_ALL_FUZZ_TARGETS_AND_ABORT";
/// How many frames of the crashing stack a signature keeps.
pub const SIGNATURE_FRAMES: usize = 3;

/// Whether `name` can be a fuzz target: it ends up in an environment
/// variable, file names and records, so only a conservative alphabet.
pub fn is_valid_target_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

/// The target names printed under [`LIST_TARGETS_ENV`], in order, without
/// duplicates. Lines that cannot be target names (fuzzer banners such as
/// `INFO: Seed: 1`, blank lines) are skipped.
pub fn parse_target_list(output: &str) -> Vec<String> {
    let mut seen = BTreeSet::new();
    output
        .lines()
        .map(str::trim)
        .filter(|line| is_valid_target_name(line))
        .filter(|line| seen.insert(*line))
        .map(str::to_owned)
        .collect()
}

/// What one fuzz run reported about itself. Every figure is optional: a run
/// killed early or a fuzzer with other output prints only some of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FuzzStats {
    /// `stat::number_of_executed_units`, else the `#N` of the last status line.
    pub execs: Option<u64>,
    /// `stat::average_exec_per_sec`, else `exec/s:` of the last status line.
    pub execs_per_sec: Option<u64>,
    /// `stat::new_units_added`: inputs that found new features.
    pub new_units: Option<u64>,
    /// `cov:` of the last status line: covered edges (or counters).
    pub coverage: Option<u64>,
    /// `ft:` of the last status line: features.
    pub features: Option<u64>,
    /// `corp: N/…` of the last status line.
    pub corpus_units: Option<u64>,
    /// `corp: …/Sb` of the last status line, in bytes.
    pub corpus_bytes: Option<u64>,
    /// `stat::peak_rss_mb`, else `rss:` of the last status line.
    pub peak_rss_mb: Option<u64>,
    /// `stat::slowest_unit_time_sec`.
    pub slowest_unit_secs: Option<u64>,
    /// A `DONE` status line was printed: the run ended by its own limits.
    pub done: bool,
}

/// Read the statistics of a libFuzzer run from its output.
pub fn parse_stats(log: &str) -> FuzzStats {
    let mut stats = FuzzStats::default();
    let (mut status_execs, mut status_rate, mut status_rss) = (None, None, None);
    for line in log.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("stat::") {
            let Some((key, value)) = rest.split_once(':') else {
                continue;
            };
            let value = value.trim().parse::<u64>().ok();
            match key.trim() {
                "number_of_executed_units" => stats.execs = value,
                "average_exec_per_sec" => stats.execs_per_sec = value,
                "new_units_added" => stats.new_units = value,
                "slowest_unit_time_sec" => stats.slowest_unit_secs = value,
                "peak_rss_mb" => stats.peak_rss_mb = value,
                _ => {}
            }
        } else if let Some(status) = parse_status_line(line) {
            status_execs = Some(status.execs);
            stats.done |= status.event == "DONE";
            if status.coverage.is_some() {
                stats.coverage = status.coverage;
            }
            if status.features.is_some() {
                stats.features = status.features;
            }
            if status.corpus.is_some() {
                stats.corpus_units = status.corpus.map(|c| c.0);
                stats.corpus_bytes = status.corpus.map(|c| c.1);
            }
            status_rate = status.execs_per_sec.or(status_rate);
            status_rss = status.rss_mb.or(status_rss);
        }
    }
    stats.execs = stats.execs.or(status_execs);
    stats.execs_per_sec = stats.execs_per_sec.or(status_rate);
    stats.peak_rss_mb = stats.peak_rss_mb.or(status_rss);
    stats
}

/// One libFuzzer status line: `#4096 NEW cov: 12 ft: 30 corp: 5/80b …`.
struct StatusLine<'a> {
    execs: u64,
    event: &'a str,
    coverage: Option<u64>,
    features: Option<u64>,
    corpus: Option<(u64, u64)>,
    execs_per_sec: Option<u64>,
    rss_mb: Option<u64>,
}

fn parse_status_line(line: &str) -> Option<StatusLine<'_>> {
    let rest = line.strip_prefix('#')?;
    let mut words = rest.split_whitespace();
    let execs = words.next()?.parse().ok()?;
    let event = words.next()?;
    if !event.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') && event != "pulse" {
        return None;
    }
    let mut status = StatusLine {
        execs,
        event,
        coverage: None,
        features: None,
        corpus: None,
        execs_per_sec: None,
        rss_mb: None,
    };
    while let Some(key) = words.next() {
        let Some(value) = words.clone().next() else {
            break;
        };
        match key {
            "cov:" => status.coverage = value.parse().ok(),
            "ft:" => status.features = value.parse().ok(),
            "exec/s:" => status.execs_per_sec = value.parse().ok(),
            "rss:" => status.rss_mb = value.trim_end_matches("Mb").parse().ok(),
            "corp:" => {
                status.corpus = value.split_once('/').and_then(|(units, size)| {
                    Some((units.parse().ok()?, parse_size(size.trim_end_matches('b'))?))
                });
            }
            _ => continue,
        }
        words.next();
    }
    Some(status)
}

/// libFuzzer prints corpus sizes as `800`, `12Kb` or `3Mb` (the `b` already
/// stripped here).
fn parse_size(text: &str) -> Option<u64> {
    let (digits, scale) = match text.as_bytes().last()? {
        b'K' => (&text[..text.len() - 1], 1 << 10),
        b'M' => (&text[..text.len() - 1], 1 << 20),
        _ => (text, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(scale)
}

/// What a `-merge=1` / `-set_cover_merge=1` run said it added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeSummary {
    pub new_files: u64,
    pub new_features: u64,
    pub new_edges: Option<u64>,
}

/// `MERGE-OUTER: 36 new files with 95 new features added; 46 new coverage edges`
pub fn parse_merge_summary(log: &str) -> Option<MergeSummary> {
    log.lines().rev().find_map(|line| {
        let rest = line.trim().strip_prefix("MERGE-OUTER: ")?;
        let (files, rest) = rest.split_once(" new files with ")?;
        let (features, rest) = rest.split_once(" new features added")?;
        let new_edges = rest
            .trim_start_matches(';')
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok());
        Some(MergeSummary {
            new_files: files.trim().parse().ok()?,
            new_features: features.trim().parse().ok()?,
            new_edges,
        })
    })
}

/// The kind of file libFuzzer writes under `-artifact_prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactKind {
    Crash,
    Timeout,
    OutOfMemory,
    Leak,
    /// An input slower than `-report_slow_units`: kept, never a finding.
    SlowUnit,
}

impl ArtifactKind {
    /// From a file name such as `crash-9132f18b…`, also behind a prefix that
    /// ends in `-` (`-artifact_prefix=crashes/parse_block-`); `None` for
    /// anything else.
    pub fn from_file_name(name: &str) -> Option<ArtifactKind> {
        let (prefix, hash) = name.rsplit_once('-')?;
        if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let is = |word: &str| {
            prefix
                .strip_suffix(word)
                .is_some_and(|rest| rest.is_empty() || rest.ends_with('-'))
        };
        // `slow-unit` before anything shorter it could end with.
        [
            ("slow-unit", ArtifactKind::SlowUnit),
            ("crash", ArtifactKind::Crash),
            ("timeout", ArtifactKind::Timeout),
            ("oom", ArtifactKind::OutOfMemory),
            ("leak", ArtifactKind::Leak),
        ]
        .into_iter()
        .find_map(|(word, kind)| is(word).then_some(kind))
    }
}

/// What went wrong, read from the crash log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CrashKind {
    /// A sanitizer error report: `tool` is e.g. `AddressSanitizer`, `bug` the
    /// report type (`heap-buffer-overflow`, `SEGV`, `stack-overflow`, …).
    Sanitizer { tool: String, bug: String },
    /// UndefinedBehaviorSanitizer (`runtime error:` with halt_on_error).
    UndefinedBehavior,
    /// LeakSanitizer: memory leaked by one input.
    Leak,
    /// libFuzzer's `-rss_limit_mb` or `-malloc_limit_mb` was hit.
    OutOfMemory,
    /// libFuzzer's `-timeout` was hit: the input hangs or is too slow. Not a
    /// crash.
    Timeout,
    /// A signal with no sanitizer report: `abort()`, `__builtin_trap()`, a
    /// failed assertion.
    DeadlySignal,
    /// Some other libFuzzer verdict, e.g. `fuzz target exited`.
    Other(String),
}

impl CrashKind {
    /// The crash type of a signature.
    pub fn crash_type(&self) -> &str {
        match self {
            CrashKind::Sanitizer { bug, .. } => bug,
            CrashKind::UndefinedBehavior => "undefined-behavior",
            CrashKind::Leak => "leak",
            CrashKind::OutOfMemory => "out-of-memory",
            CrashKind::Timeout => "timeout",
            CrashKind::DeadlySignal => "deadly-signal",
            CrashKind::Other(what) => what,
        }
    }

    /// A timeout is reported as a hang, never as a crash.
    pub fn is_crash(&self) -> bool {
        !matches!(self, CrashKind::Timeout)
    }
}

impl fmt::Display for CrashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CrashKind::Sanitizer { tool, bug } => write!(f, "{tool}: {bug}"),
            other => f.write_str(other.crash_type()),
        }
    }
}

/// A crash log, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrashReport {
    pub kind: CrashKind,
    /// The crashing stack, normalised, innermost first, without sanitizer and
    /// fuzzer runtime frames, ending at `LLVMFuzzerTestOneInput`.
    pub frames: Vec<String>,
    /// The line the report was read from, for humans.
    pub headline: String,
}

/// Classify the first error report in `log`; `None` when there is none.
pub fn classify_crash(log: &str) -> Option<CrashReport> {
    let lines: Vec<&str> = log.lines().collect();
    let (at, kind) = lines
        .iter()
        .enumerate()
        .find_map(|(i, line)| header_kind(line, &lines[i..]).map(|kind| (i, kind)))?;
    let frames = stack_after(&lines[at + 1..]);
    Some(CrashReport {
        kind,
        frames,
        headline: lines[at].trim().to_owned(),
    })
}

/// The kind of the report that `line` starts, if it starts one. `rest`
/// (beginning with `line`) is searched for the matching `SUMMARY:` line,
/// which names the bug type canonically.
fn header_kind(line: &str, rest: &[&str]) -> Option<CrashKind> {
    if let Some(what) = after(line, "ERROR: libFuzzer: ") {
        return Some(if what.starts_with("timeout") {
            CrashKind::Timeout
        } else if what.starts_with("out-of-memory") || what.starts_with("malloc limit") {
            CrashKind::OutOfMemory
        } else if what.starts_with("deadly signal") {
            CrashKind::DeadlySignal
        } else {
            CrashKind::Other(what.trim().replace(' ', "-"))
        });
    }
    if after(line, "ERROR: LeakSanitizer:").is_some() {
        return Some(CrashKind::Leak);
    }
    if line.contains(": runtime error: ") {
        return Some(CrashKind::UndefinedBehavior);
    }
    let what = after(line, "ERROR: ")?;
    let (tool, report) = what.split_once(": ")?;
    if !tool.ends_with("Sanitizer") || tool.contains(' ') {
        return None;
    }
    let summary = format!("SUMMARY: {tool}: ");
    let bug = rest
        .iter()
        .find_map(|l| after(l, &summary))
        .and_then(|s| s.split_whitespace().next())
        .or_else(|| {
            report
                .split_whitespace()
                .find(|w| *w != "attempting")
                .map(|w| w.trim_end_matches(':'))
        })
        .unwrap_or("unknown");
    Some(CrashKind::Sanitizer {
        tool: tool.to_owned(),
        bug: bug.to_owned(),
    })
}

fn after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    line.find(marker).map(|i| &line[i + marker.len()..])
}

/// The first stack trace in `lines` (`    #0 0x… in func file:line:col`),
/// normalised, runtime frames dropped, cut after the fuzz entry point.
fn stack_after(lines: &[&str]) -> Vec<String> {
    let mut frames = Vec::new();
    let mut in_stack = false;
    for line in lines {
        let Some(frame) = parse_frame(line) else {
            if in_stack {
                break;
            }
            continue;
        };
        in_stack = true;
        let Some(function) = frame else {
            continue;
        };
        let name = normalize_function(function);
        if name == "LLVMFuzzerTestOneInput" {
            frames.push(name);
            break;
        }
        if !is_runtime_frame(&name) {
            frames.push(name);
        }
    }
    frames
}

/// `Some(Some(function))` for a symbolised frame, `Some(None)` for a frame
/// without a function name, `None` when the line is not a frame.
fn parse_frame(line: &str) -> Option<Option<&str>> {
    let rest = line.trim_start().strip_prefix('#')?;
    let (index, rest) = rest.split_once(' ')?;
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = rest.trim_start();
    let (address, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    address.strip_prefix("0x")?;
    let Some(rest) = rest.trim_start().strip_prefix("in ") else {
        return Some(None);
    };
    let mut text = rest.trim_end();
    if let Some(i) = text.find(" (BuildId:") {
        text = text[..i].trim_end();
    }
    // `(module+0x1234)` when there is no line info, else `file:line:col`.
    if text.ends_with(')')
        && let Some(i) = text.rfind(" (")
        && text[i..].contains("+0x")
    {
        text = &text[..i];
    } else if let Some((function, location)) = text.rsplit_once(' ')
        && (location.contains('/') || location.contains(':') || location.contains('.'))
        && !location.ends_with(')')
    {
        text = function;
    }
    let text = text.trim();
    Some((!text.is_empty()).then_some(text))
}

/// Drop what differs between builds of the same code: parameter lists,
/// template arguments, ABI tags, compiler clone suffixes, libc++'s inline
/// namespace.
pub fn normalize_function(name: &str) -> String {
    // `operator()` is a name, not a parameter list; shield it from the
    // parenthesis stripping below.
    let name = name
        .replace("(anonymous namespace)", "{anonymous}")
        .replace("operator()", "operator\u{1}");
    let mut out = String::with_capacity(name.len());
    let (mut parens, mut angles, mut squares) = (0u32, 0u32, 0u32);
    for c in name.chars() {
        match c {
            '(' => parens += 1,
            ')' => parens = parens.saturating_sub(1),
            // `operator<` and `operator<<` keep their angle brackets.
            '<' if parens == 0
                && squares == 0
                && !out.ends_with("operator")
                && !out.ends_with("operator<") =>
            {
                angles += 1
            }
            '>' if parens == 0 && squares == 0 && angles > 0 => angles -= 1,
            '[' if parens == 0 && angles == 0 => squares += 1,
            ']' if parens == 0 && angles == 0 => squares = squares.saturating_sub(1),
            _ if parens == 0 && angles == 0 && squares == 0 => out.push(c),
            _ => {}
        }
    }
    let mut out = out
        .replace("std::__1::", "std::")
        .replace("std::__cxx11::", "std::");
    // GCC clones: foo.isra.0, foo.constprop.1, foo.part.0, foo.cold
    for suffix in [".isra", ".constprop", ".part", ".cold", ".lto_priv"] {
        if let Some(i) = out.find(suffix) {
            out.truncate(i);
        }
    }
    let out = out.replace('\u{1}', "()");
    let out = out.trim();
    out.strip_suffix(" const").unwrap_or(out).trim().to_owned()
}

/// Frames of the sanitizer and fuzzer runtimes, libc's signal and abort
/// machinery and allocators: the same for every crash, so never part of a
/// signature.
fn is_runtime_frame(name: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "__sanitizer",
        "__asan",
        "__ubsan",
        "__lsan",
        "__msan",
        "__tsan",
        "__interceptor_",
        "__interception::",
        "fuzzer::",
        "__libc_",
        "__GI_",
        "__pthread_kill",
    ];
    const NAMES: &[&str] = &[
        "raise",
        "abort",
        "gsignal",
        "pthread_kill",
        "__assert_fail",
        "__assert_fail_base",
        "_start",
        "malloc",
        "calloc",
        "realloc",
        "free",
        "operator new",
        "operator new[]",
        "operator delete",
        "operator delete[]",
        "std::terminate",
        "__cxa_throw",
    ];
    PREFIXES.iter().any(|p| name.starts_with(p))
        || NAMES.contains(&name)
        || name.ends_with("InterceptorCommon")
}

/// The identity of a crash for deduplication: the same bug found again, in
/// another run or another build, has the same signature.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CrashSignature {
    pub target: String,
    pub crash_type: String,
    /// At most [`SIGNATURE_FRAMES`] normalised frames, innermost first.
    pub frames: Vec<String>,
}

impl CrashSignature {
    pub fn new(target: &str, report: &CrashReport) -> CrashSignature {
        CrashSignature {
            target: target.to_owned(),
            crash_type: report.kind.crash_type().to_owned(),
            frames: report
                .frames
                .iter()
                .take(SIGNATURE_FRAMES)
                .cloned()
                .collect(),
        }
    }

    /// The stable text form stored as a finding's key:
    /// `target|crash type|frame;frame;frame`.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{}",
            self.target,
            self.crash_type,
            self.frames.join(";")
        )
    }
}

impl fmt::Display for CrashSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

/// The signatures already recorded (as findings) for a project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownCrashes {
    keys: BTreeSet<String>,
}

impl KnownCrashes {
    pub fn new() -> KnownCrashes {
        KnownCrashes::default()
    }

    pub fn contains(&self, signature: &CrashSignature) -> bool {
        self.keys.contains(&signature.key())
    }

    /// Record `signature`; true when it was not known, i.e. it is a new
    /// finding.
    pub fn insert(&mut self, signature: &CrashSignature) -> bool {
        self.keys.insert(signature.key())
    }

    /// The signatures among `found` that are new, each once, in order, and
    /// now known.
    pub fn admit<'a>(
        &mut self,
        found: impl IntoIterator<Item = &'a CrashSignature>,
    ) -> Vec<&'a CrashSignature> {
        found.into_iter().filter(|s| self.insert(s)).collect()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

impl FromIterator<String> for KnownCrashes {
    fn from_iter<I: IntoIterator<Item = String>>(keys: I) -> Self {
        KnownCrashes {
            keys: keys.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Excerpts captured from examples/toynode's harness (clang 14,
    // -fsanitize=fuzzer,address,undefined) and from a scratch target built
    // the same way for the abort, UBSan and leak cases.

    const CANARY_RUN: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
INFO: Seed: 582312896
INFO:        0 files found in corp
#2\tINITED cov: 4 ft: 5 corp: 1/1b exec/s: 0 rss: 30Mb
#17\tNEW    cov: 5 ft: 6 corp: 2/5b lim: 4 exec/s: 0 rss: 30Mb L: 4/4 MS: 5 ChangeBit-InsertByte-InsertByte-CopyPart-CrossOver-
#130743\tREDUCE cov: 8 ft: 9 corp: 5/17b lim: 1290 exec/s: 0 rss: 40Mb L: 4/4 MS: 1 EraseBytes-
=================================================================
==23891==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000307057 at pc 0x5638930440cd bp 0x7fff2534e9d0 sp 0x7fff2534e9c8
READ of size 1 at 0x602000307057 thread T0
    #0 0x5638930440cc in canary_peek /work/main/examples/toynode/fuzz/fuzz_main.c:91:12
    #1 0x563893042f04 in fuzz_canary /work/main/examples/toynode/fuzz/fuzz_main.c:103:9
    #2 0x563893042d5f in LLVMFuzzerTestOneInput /work/main/examples/toynode/fuzz/fuzz_main.c:166:5
    #3 0x563892f6b2f3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/work/main/examples/toynode/build-fuzz/fuzz+0x452f3) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #4 0x563892f6aa19 in fuzzer::Fuzzer::RunOne(unsigned char const*, unsigned long, bool, fuzzer::InputInfo*, bool, bool*) (/work/main/examples/toynode/build-fuzz/fuzz+0x44a19) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #8 0x563892f84e72 in main (/work/main/examples/toynode/build-fuzz/fuzz+0x5ee72) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #9 0x7fd9f5765249 in __libc_start_call_main csu/../sysdeps/nptl/libc_start_call_main.h:58:16

0x602000307057 is located 0 bytes to the right of 7-byte region [0x602000307050,0x602000307057)
allocated by thread T0 here:
    #0 0x563893007bfe in malloc (/work/main/examples/toynode/build-fuzz/fuzz+0xe1bfe) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #1 0x563893042ee3 in fuzz_canary /work/main/examples/toynode/fuzz/fuzz_main.c:99:12

SUMMARY: AddressSanitizer: heap-buffer-overflow /work/main/examples/toynode/fuzz/fuzz_main.c:91:12 in canary_peek
==23891==ABORTING
MS: 2 CrossOver-CopyPart-; base unit: c57bea18b4817b8f57b01b5087264c1522745bb6
artifact_prefix='crashes/'; Test unit written to crashes/crash-9132f18bbbe1942a17d0bcc1a703784183ad00c5
Base64: RlVaWsnJCg==
stat::number_of_executed_units: 130935
stat::average_exec_per_sec:     0
stat::new_units_added:          7
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              41
";

    // The same bug reproduced from another checkout: other addresses, pid,
    // paths and line numbers.
    const CANARY_REPRO_ELSEWHERE: &str = "\
Running: /tmp/.tmpX1/crashes/crash-9132f18bbbe1942a17d0bcc1a703784183ad00c5
=================================================================
==4242==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000057 at pc 0x555d386330cd bp 0x7ffdafbf6cd0 sp 0x7ffdafbf6cc8
READ of size 1 at 0x602000000057 thread T0
    #0 0x555d386330cc in canary_peek /home/ci/toynode/fuzz/fuzz_main.c:95:12
    #1 0x555d38631f04 in fuzz_canary /home/ci/toynode/fuzz/fuzz_main.c:107:9
    #2 0x555d38631d5f in LLVMFuzzerTestOneInput /home/ci/toynode/fuzz/fuzz_main.c:170:5
    #3 0x555d3855a2f3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/home/ci/toynode/build-fuzz/fuzz+0x452f3)
SUMMARY: AddressSanitizer: heap-buffer-overflow /home/ci/toynode/fuzz/fuzz_main.c:95:12 in canary_peek
";

    const HANG_RUN: &str = "\
INFO: seed corpus: files: 1 min: 4b max: 4b total: 4b rss: 29Mb
ALARM: working on the last Unit for 1 seconds
       and the timeout value is 1 (use -timeout=N to change)
MS: 0 ; base unit: 0000000000000000000000000000000000000000
artifact_prefix='hcr/'; Test unit written to hcr/timeout-cf0ff64460f67c1ab6fabbcf530f997ddb04a996
Base64: SEFORw==
==23941== ERROR: libFuzzer: timeout after 1 seconds
    #0 0x5648f443fce1 in __sanitizer_print_stack_trace (/work/main/examples/toynode/build-fuzz/fuzz+0xebce1) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #1 0x5648f43b2638 in fuzzer::PrintStackTrace() (/work/main/examples/toynode/build-fuzz/fuzz+0x5e638) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #2 0x5648f4397e79 in fuzzer::Fuzzer::AlarmCallback() (/work/main/examples/toynode/build-fuzz/fuzz+0x43e79) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)
    #3 0x7f2e93f5a04f  (/lib/x86_64-linux-gnu/libc.so.6+0x3c04f) (BuildId: 93ac61ec5a8eb1396f9fbd350e3169a558528a40)
    #4 0x5648f44721a3 in hang_forever /work/main/examples/toynode/fuzz/fuzz_main.c:112:13
    #5 0x5648f44710f8 in fuzz_hang /work/main/examples/toynode/fuzz/fuzz_main.c:118:9
    #6 0x5648f4470d5f in LLVMFuzzerTestOneInput /work/main/examples/toynode/fuzz/fuzz_main.c:166:5
    #7 0x5648f43992f3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/work/main/examples/toynode/build-fuzz/fuzz+0x452f3) (BuildId: d57e364f040b24525b512f1ce1ec3df94d6b037a)

SUMMARY: libFuzzer: timeout
stat::number_of_executed_units: 2
stat::average_exec_per_sec:     1
stat::new_units_added:          0
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              30
";

    const ABORT_RUN: &str = "\
fuzz: check failed: again.height == b.height (fuzz/fuzz_main.c:44)
==24504== ERROR: libFuzzer: deadly signal
    #0 0x560063490ce1 in __sanitizer_print_stack_trace (/tmp/fz/v+0xe8ce1)
    #1 0x560063403638 in fuzzer::PrintStackTrace() (/tmp/fz/v+0x5b638)
    #2 0x5600633e8f03 in fuzzer::Fuzzer::CrashCallback() (/tmp/fz/v+0x40f03)
    #3 0x7f62e5d7a04f  (/lib/x86_64-linux-gnu/libc.so.6+0x3c04f)
    #4 0x7f62e5dc8eeb in __pthread_kill_implementation nptl/./nptl/pthread_kill.c:43:17
    #5 0x7f62e5d79fb1 in raise signal/../sysdeps/posix/raise.c:26:13
    #6 0x7f62e5d64471 in abort stdlib/./stdlib/abort.c:79:7
    #7 0x5600634c1d90 in check_it /tmp/fz/v.c:5:112
    #8 0x5600634c19d1 in LLVMFuzzerTestOneInput /tmp/fz/v.c:11:17
    #9 0x5600633ea2f3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/tmp/fz/v+0x422f3)

NOTE: libFuzzer has rudimentary signal handlers.
SUMMARY: libFuzzer: deadly signal
";

    const UBSAN_RUN: &str = "\
v.c:6:62: runtime error: signed integer overflow: 85 + 2147483647 cannot be represented in type 'int'
    #0 0x55f463bf1949 in add_it /tmp/fz/v.c:6:62
    #1 0x55f463bf1c6e in LLVMFuzzerTestOneInput /tmp/fz/v.c:12:45
    #2 0x55f463b1a2f3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/tmp/fz/v+0x422f3)

SUMMARY: UndefinedBehaviorSanitizer: undefined-behavior v.c:6:62 in
";

    const LEAK_RUN: &str = "\
\tNEW_FUNC[1/1]: 0x562f596b0da0 in leak_it /tmp/fz/v.c:7

=================================================================
==24516==ERROR: LeakSanitizer: detected memory leaks

Direct leak of 64 byte(s) in 1 object(s) allocated from:
    #0 0x562f59675bfe in malloc (/tmp/fz/v+0xdebfe)
    #1 0x562f596b0dc5 in leak_it /tmp/fz/v.c:7:64
    #2 0x562f596b0acc in LLVMFuzzerTestOneInput /tmp/fz/v.c:13:38
    #3 0x562f595d92f3 in fuzzer::Fuzzer::ExecuteCallback(unsigned char const*, unsigned long) (/tmp/fz/v+0x422f3)

SUMMARY: AddressSanitizer: 64 byte(s) leaked in 1 allocation(s).
";

    // libFuzzer's -rss_limit_mb report (format of FuzzerLoop.cpp).
    const OOM_RUN: &str = "\
==31337== ERROR: libFuzzer: out-of-memory (used: 540Mb; exceeds: 512Mb)
   To change the out-of-memory limit use -rss_limit_mb=<N>

Live Heap Allocations: 524288000 bytes in 5 chunks; quarantined: 0 bytes in 0 chunks; 0 other chunks; total chunks: 5; showing top 95% (at most 8 unique contexts)
SUMMARY: libFuzzer: out-of-memory
";

    const SEGV_RUN: &str = "\
==77==ERROR: AddressSanitizer: SEGV on unknown address 0x000000000000 (pc 0x55d1 bp 0x7ffc sp 0x7ffc T0)
==77==The signal is caused by a READ memory access.
==77==Hint: address points to the zero page.
    #0 0x55d1c3 in CTransaction::GetHash() const /src/bitcoin/src/primitives/transaction.h:345:16
    #1 0x55d1d4 in void (anonymous namespace)::ProcessTx<std::__1::vector<int, std::__1::allocator<int> > >(std::__1::vector<int, std::__1::allocator<int> > const&) /src/bitcoin/src/test/fuzz/tx.cpp:40:5
    #2 0x55d1e5 in tx_fuzz_target(Span<unsigned char const>) /src/bitcoin/src/test/fuzz/tx.cpp:55:5
    #3 0x55d1f6 in std::__1::__function::__func<void (*)(Span<unsigned char const>), std::__1::allocator<void (*)(Span<unsigned char const>)>, void (Span<unsigned char const>)>::operator()(Span<unsigned char const>&&) /usr/include/c++/v1/__functional/function.h:345:12
    #4 0x55d207 in LLVMFuzzerTestOneInput /src/bitcoin/src/test/fuzz/fuzz.cpp:207:5

AddressSanitizer can not provide additional info.
SUMMARY: AddressSanitizer: SEGV /src/bitcoin/src/primitives/transaction.h:345:16 in CTransaction::GetHash() const
==77==ABORTING
";

    const PARSE_BLOCK_RUN: &str = "\
INFO:        0 files found in new
INFO:        3 files found in /work/main/examples/toynode/fuzz/corpus/parse_block
INFO: seed corpus: files: 3 min: 27b max: 28b total: 82b rss: 29Mb
#4\tINITED cov: 39 ft: 60 corp: 3/82b exec/s: 0 rss: 30Mb
#2097152\tpulse  cov: 46 ft: 95 corp: 40/1181b lim: 4096 exec/s: 699050 rss: 219Mb
#2144041\tDONE   cov: 46 ft: 95 corp: 43/1228b lim: 4096 exec/s: 536010 rss: 270Mb
###### Recommended dictionary. ######
\"\\377\\377\" # Uses: 54342
###### End of recommended dictionary. ######
Done 2144041 runs in 4 second(s)
stat::number_of_executed_units: 2144041
stat::average_exec_per_sec:     536010
stat::new_units_added:          183
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              270
";

    const MERGE_RUN: &str = "\
MERGE-OUTER: 46 files, 0 in the initial corpus, 0 processed earlier
MERGE-OUTER: attempt 1
MERGE-INNER: using the control file '/tmp/libFuzzerTemp.Merge25038.txt'
#46\tDONE   cov: 46 ft: 95 exec/s: 0 rss: 31Mb
MERGE-OUTER: successful in 1 attempt(s)
MERGE-OUTER: the control file has 3937 bytes
MERGE-OUTER: 36 new files with 95 new features added; 46 new coverage edges
";

    #[test]
    fn target_list_skips_banners_and_duplicates() {
        let out = "INFO: Seed: 1\ncanary\nhang\n\nparse_block\nreplay_chain\nhang\n../etc\n";
        assert_eq!(
            parse_target_list(out),
            ["canary", "hang", "parse_block", "replay_chain"]
        );
        assert!(!is_valid_target_name("a b"));
        assert!(!is_valid_target_name("-runs=1"));
        assert!(!is_valid_target_name(""));
    }

    #[test]
    fn final_stats_and_last_status_line() {
        let stats = parse_stats(PARSE_BLOCK_RUN);
        assert_eq!(
            stats,
            FuzzStats {
                execs: Some(2_144_041),
                execs_per_sec: Some(536_010),
                new_units: Some(183),
                coverage: Some(46),
                features: Some(95),
                corpus_units: Some(43),
                corpus_bytes: Some(1228),
                peak_rss_mb: Some(270),
                slowest_unit_secs: Some(0),
                done: true,
            }
        );
    }

    #[test]
    fn stats_without_final_stats_fall_back_to_status_lines() {
        let log = "#2\tINITED cov: 4 ft: 5 corp: 1/1b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 7 ft: 8 corp: 4/2Kb lim: 4 exec/s: 2048 rss: 31Mb\n";
        let stats = parse_stats(log);
        assert_eq!(stats.execs, Some(4096));
        assert_eq!(stats.execs_per_sec, Some(2048));
        assert_eq!(stats.corpus_bytes, Some(2048));
        assert_eq!(stats.peak_rss_mb, Some(31));
        assert!(!stats.done);
        assert_eq!(parse_stats("garbage\n#x y\n"), FuzzStats::default());
    }

    #[test]
    fn merge_summary() {
        assert_eq!(
            parse_merge_summary(MERGE_RUN),
            Some(MergeSummary {
                new_files: 36,
                new_features: 95,
                new_edges: Some(46)
            })
        );
        assert_eq!(parse_merge_summary("MERGE-OUTER: attempt 1\n"), None);
    }

    #[test]
    fn artifact_names() {
        let kind = ArtifactKind::from_file_name;
        assert_eq!(
            kind("crash-9132f18bbbe1942a17d0bcc1a703784183ad00c5"),
            Some(ArtifactKind::Crash)
        );
        assert_eq!(kind("timeout-cf0f"), Some(ArtifactKind::Timeout));
        assert_eq!(kind("oom-ab"), Some(ArtifactKind::OutOfMemory));
        assert_eq!(kind("leak-d160"), Some(ArtifactKind::Leak));
        assert_eq!(kind("slow-unit-00"), Some(ArtifactKind::SlowUnit));
        assert_eq!(kind("parse_block-crash-12ab"), Some(ArtifactKind::Crash));
        assert_eq!(
            kind("parse_block-slow-unit-12ab"),
            Some(ArtifactKind::SlowUnit)
        );
        assert_eq!(kind("backtrace-12ab"), None);
        assert_eq!(kind("crash-"), None);
        assert_eq!(kind("crash-xyz"), None);
        assert_eq!(kind("README"), None);
    }

    #[test]
    fn asan_report_gives_bug_type_and_user_frames() {
        let report = classify_crash(CANARY_RUN).unwrap();
        assert_eq!(
            report.kind,
            CrashKind::Sanitizer {
                tool: "AddressSanitizer".into(),
                bug: "heap-buffer-overflow".into()
            }
        );
        // The allocation stack further down is not the crashing stack.
        assert_eq!(
            report.frames,
            ["canary_peek", "fuzz_canary", "LLVMFuzzerTestOneInput"]
        );
        let sig = CrashSignature::new("canary", &report);
        assert_eq!(
            sig.key(),
            "canary|heap-buffer-overflow|canary_peek;fuzz_canary;LLVMFuzzerTestOneInput"
        );
    }

    #[test]
    fn same_bug_elsewhere_has_the_same_signature() {
        let a = CrashSignature::new("canary", &classify_crash(CANARY_RUN).unwrap());
        let b = CrashSignature::new("canary", &classify_crash(CANARY_REPRO_ELSEWHERE).unwrap());
        assert_eq!(a, b);
        // Same stack in another target is another finding.
        let c = CrashSignature::new("other", &classify_crash(CANARY_RUN).unwrap());
        assert_ne!(a, c);
    }

    #[test]
    fn timeout_is_not_a_crash() {
        let report = classify_crash(HANG_RUN).unwrap();
        assert_eq!(report.kind, CrashKind::Timeout);
        assert!(!report.kind.is_crash());
        assert_eq!(
            report.frames,
            ["hang_forever", "fuzz_hang", "LLVMFuzzerTestOneInput"]
        );
        assert_eq!(parse_stats(HANG_RUN).execs, Some(2));
    }

    #[test]
    fn abort_is_a_deadly_signal_without_libc_frames() {
        let report = classify_crash(ABORT_RUN).unwrap();
        assert_eq!(report.kind, CrashKind::DeadlySignal);
        assert!(report.kind.is_crash());
        assert_eq!(report.frames, ["check_it", "LLVMFuzzerTestOneInput"]);
        assert_eq!(
            CrashSignature::new("t", &report).key(),
            "t|deadly-signal|check_it;LLVMFuzzerTestOneInput"
        );
    }

    #[test]
    fn ubsan_leak_and_oom() {
        let ub = classify_crash(UBSAN_RUN).unwrap();
        assert_eq!(ub.kind, CrashKind::UndefinedBehavior);
        assert_eq!(ub.frames, ["add_it", "LLVMFuzzerTestOneInput"]);

        let leak = classify_crash(LEAK_RUN).unwrap();
        assert_eq!(leak.kind, CrashKind::Leak);
        assert_eq!(leak.frames, ["leak_it", "LLVMFuzzerTestOneInput"]);

        let oom = classify_crash(OOM_RUN).unwrap();
        assert_eq!(oom.kind, CrashKind::OutOfMemory);
        assert!(oom.frames.is_empty());
        assert_eq!(oom.kind.crash_type(), "out-of-memory");
    }

    #[test]
    fn cpp_frames_lose_parameters_templates_and_inline_namespaces() {
        let report = classify_crash(SEGV_RUN).unwrap();
        assert_eq!(report.kind.crash_type(), "SEGV");
        assert_eq!(
            report.frames,
            [
                "CTransaction::GetHash",
                "void {anonymous}::ProcessTx",
                "tx_fuzz_target",
                "std::__function::__func::operator()",
                "LLVMFuzzerTestOneInput"
            ]
        );
        assert_eq!(
            normalize_function("operator<<(std::ostream&, int)"),
            "operator<<"
        );
        assert_eq!(normalize_function("foo[abi:cxx11]()"), "foo");
        assert_eq!(normalize_function("parse.isra.0"), "parse");
    }

    #[test]
    fn clean_output_has_no_report() {
        assert_eq!(classify_crash(PARSE_BLOCK_RUN), None);
        assert_eq!(classify_crash(MERGE_RUN), None);
    }

    #[test]
    fn known_crashes_dedupe() {
        let sig = CrashSignature::new("canary", &classify_crash(CANARY_RUN).unwrap());
        let again = CrashSignature::new("canary", &classify_crash(CANARY_REPRO_ELSEWHERE).unwrap());
        let hang = CrashSignature::new("hang", &classify_crash(HANG_RUN).unwrap());

        let mut known = KnownCrashes::new();
        assert_eq!(known.admit([&sig, &again, &hang]), [&sig, &hang]);
        assert!(known.contains(&again));
        assert!(!known.insert(&again));
        assert_eq!(known.len(), 2);

        // Known keys come back from the store as text.
        let reloaded: KnownCrashes = [sig.key()].into_iter().collect();
        assert!(reloaded.contains(&again));
        assert!(!reloaded.contains(&hang));
    }
}

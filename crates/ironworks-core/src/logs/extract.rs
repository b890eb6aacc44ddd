//! Extraction: the unusual blocks of a failed log, ranked.
//!
//! A line is unusual when the index has not seen its normalised form in at
//! least `min_logs` passed logs. Unusual lines close together (at most
//! `merge_gap` ordinary lines apart) form one block, with `context` lines
//! before and after. Blocks are ranked: each unusual line scores 1 the first
//! time its normalised form occurs in this log (repeats score 0, so a line
//! printed a thousand times does not bury the error), plus 8 when it says
//! what errors say (`error`, `panicked`, `assert`, `segmentation fault`, …);
//! ties go to the later block, since errors come near the end. The best
//! blocks are reported, in log order, up to `max_lines` lines in all.
//!
//! Memory is bounded whatever the log's size: a ring of `context` lines, the
//! open block (at most `max_block_lines`), the `max_kept_blocks` best closed
//! blocks, and a bounded set of line keys already seen.

use std::collections::HashSet;

use serde::Serialize;

use super::index::LogIndex;
use super::normalize::{line_key, strip_ansi};

/// Keys remembered to score repeats 0; past this, repeats score as new.
const SEEN_KEYS_BOUND: usize = 1 << 16;
/// Score of an unusual line the first time it occurs.
const NEW_LINE_SCORE: u64 = 1;
/// Extra score of a line that reads like an error.
const ERROR_WORD_SCORE: u64 = 8;
/// Lower-case phrases that mark a line as error-like.
const ERROR_WORDS: &[&[u8]] = &[
    b"error",
    b"panic",
    b"fail",
    b"fatal",
    b"assert",
    b"abort",
    b"segmentation fault",
    b"sigsegv",
    b"sigabrt",
    b"sigbus",
    b"exception",
    b"traceback",
    b"backtrace",
    b"undefined reference",
    b"timed out",
    b"timeout",
    b"core dumped",
    b"killed",
    b"not found",
    b"denied",
];

/// How extraction cuts and bounds its blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtractOptions {
    /// Ordinary lines shown before and after each block.
    pub context: usize,
    /// Unusual lines at most this many ordinary lines apart share a block
    /// (raised to `2 × context` so blocks never overlap).
    pub merge_gap: usize,
    /// Lines reported in all, context included.
    pub max_lines: usize,
    /// A block is cut after this many lines, so one runaway block cannot
    /// hide the others.
    pub max_block_lines: usize,
    /// A line is ordinary once it appeared in this many passed logs.
    pub min_logs: u32,
    /// Longest line shown, in bytes; longer ones are cut with `…`.
    pub max_line_bytes: usize,
    /// Best blocks held while reading.
    pub max_kept_blocks: usize,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            context: 2,
            merge_gap: 4,
            max_lines: 40,
            max_block_lines: 40,
            min_logs: 1,
            max_line_bytes: 512,
            max_kept_blocks: 64,
        }
    }
}

/// One reported line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockLine {
    /// 1-based line number in the log.
    pub number: u64,
    /// `false` for a context line.
    pub unusual: bool,
    /// The line without ANSI escapes, decoded lossily, cut at
    /// `max_line_bytes`.
    pub text: String,
}

/// One reported block of lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Block {
    pub first_line: u64,
    pub last_line: u64,
    /// 1 is the block most likely to hold the error.
    pub rank: usize,
    pub score: u64,
    pub lines: Vec<BlockLine>,
}

/// What extraction found in one log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extraction {
    /// Lines read.
    pub lines: u64,
    /// Lines not known as ordinary.
    pub unusual_lines: u64,
    /// Blocks found before the `max_lines` cut.
    pub blocks_found: u64,
    /// The reported blocks, in log order.
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
struct RawLine {
    number: u64,
    score: u64,
    unusual: bool,
    bytes: Vec<u8>,
}

#[derive(Debug)]
struct OpenBlock {
    lines: Vec<RawLine>,
    score: u64,
    last_unusual: u64,
}

impl OpenBlock {
    fn rank_key(&self) -> (u64, u64) {
        (self.score, self.last_unusual)
    }
}

/// Reads one failed log line by line; [`Extractor::finish`] gives the blocks.
#[derive(Debug)]
pub struct Extractor<'a> {
    index: &'a LogIndex,
    options: ExtractOptions,
    scratch: Vec<u8>,
    lower: Vec<u8>,
    line: u64,
    unusual: u64,
    /// The last `context` lines, oldest first after `ring_head`.
    ring: Vec<RawLine>,
    ring_head: usize,
    open: Option<OpenBlock>,
    kept: Vec<OpenBlock>,
    blocks_found: u64,
    /// Last line number that belongs to a closed block.
    closed_through: u64,
    seen: HashSet<u64>,
}

impl<'a> Extractor<'a> {
    pub fn new(index: &'a LogIndex, options: ExtractOptions) -> Self {
        let mut options = options;
        options.max_block_lines = options.max_block_lines.max(1);
        options.merge_gap = options.merge_gap.max(2 * options.context);
        Extractor {
            index,
            options,
            scratch: Vec::with_capacity(256),
            lower: Vec::with_capacity(256),
            line: 0,
            unusual: 0,
            ring: Vec::with_capacity(options.context),
            ring_head: 0,
            open: None,
            kept: Vec::new(),
            blocks_found: 0,
            closed_through: 0,
            seen: HashSet::new(),
        }
    }

    /// Extract from a whole log held in memory (tests, benchmarks).
    pub fn extract_text(index: &LogIndex, options: ExtractOptions, text: &[u8]) -> Extraction {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let mut extractor = Extractor::new(index, options);
        if !text.is_empty() {
            for line in text.split(|&b| b == b'\n') {
                extractor.line(line);
            }
        }
        extractor.finish()
    }

    /// The next line of the log, without its `\n`.
    pub fn line(&mut self, line: &[u8]) {
        self.line += 1;
        let number = self.line;
        let key = line_key(line, &mut self.scratch);
        let unusual = key.is_some_and(|k| self.index.logs_with(k) < self.options.min_logs);
        if unusual {
            self.unusual += 1;
            let first = self.seen.len() >= SEEN_KEYS_BOUND
                || self.seen.insert(key.expect("unusual lines have a key"));
            let score = if first {
                NEW_LINE_SCORE
                    + if self.error_like(line) {
                        ERROR_WORD_SCORE
                    } else {
                        0
                    }
            } else {
                0
            };
            let raw = self.raw(number, score, true, line);
            let joins = self.open.as_ref().is_some_and(|open| {
                number - open.last_unusual - 1 <= self.options.merge_gap as u64
                    && open.lines.len() < self.options.max_block_lines
            });
            if joins {
                let open = self.open.as_mut().expect("checked");
                open.score += score;
                open.last_unusual = number;
                open.lines.push(raw);
            } else {
                self.close();
                let mut lines = self.before_context();
                lines.push(raw);
                self.open = Some(OpenBlock {
                    lines,
                    score,
                    last_unusual: number,
                });
            }
        } else if let Some(open) = &self.open {
            let gap = number - open.last_unusual;
            if gap <= self.options.merge_gap as u64
                && open.lines.len() < self.options.max_block_lines
            {
                let raw = self.raw(number, 0, false, line);
                self.open.as_mut().expect("checked").lines.push(raw);
            } else {
                self.close();
            }
        }
        self.remember(number, line);
    }

    /// The end of the log: the ranked blocks.
    pub fn finish(mut self) -> Extraction {
        self.close();
        let mut kept = std::mem::take(&mut self.kept);
        kept.sort_by_key(|b| std::cmp::Reverse(b.rank_key()));
        let mut budget = self.options.max_lines;
        let mut chosen: Vec<(usize, Vec<RawLine>, u64)> = Vec::new();
        for (rank, block) in kept.into_iter().enumerate() {
            if budget == 0 {
                break;
            }
            let lines = if block.lines.len() <= budget {
                block.lines
            } else {
                window(block.lines, budget, self.options.context)
            };
            budget -= lines.len();
            chosen.push((rank + 1, lines, block.score));
        }
        chosen.sort_by_key(|(_, lines, _)| lines[0].number);
        let max_bytes = self.options.max_line_bytes;
        Extraction {
            lines: self.line,
            unusual_lines: self.unusual,
            blocks_found: self.blocks_found,
            blocks: chosen
                .into_iter()
                .map(|(rank, lines, score)| Block {
                    first_line: lines[0].number,
                    last_line: lines[lines.len() - 1].number,
                    rank,
                    score,
                    lines: lines
                        .into_iter()
                        .map(|raw| BlockLine {
                            number: raw.number,
                            unusual: raw.unusual,
                            text: display(&raw.bytes, max_bytes),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    fn raw(&self, number: u64, score: u64, unusual: bool, line: &[u8]) -> RawLine {
        RawLine {
            number,
            score,
            unusual,
            bytes: line[..line.len().min(self.options.max_line_bytes + 4)].to_vec(),
        }
    }

    fn error_like(&mut self, line: &[u8]) -> bool {
        self.lower.clear();
        self.lower
            .extend(line.iter().take(4096).map(u8::to_ascii_lowercase));
        ERROR_WORDS
            .iter()
            .any(|word| self.lower.windows(word.len()).any(|w| w == *word))
    }

    /// Keep the line in the ring of before-context, reusing its buffers.
    fn remember(&mut self, number: u64, line: &[u8]) {
        let context = self.options.context;
        if context == 0 {
            return;
        }
        let line = &line[..line.len().min(self.options.max_line_bytes + 4)];
        if self.ring.len() < context {
            self.ring.push(RawLine {
                number,
                score: 0,
                unusual: false,
                bytes: line.to_vec(),
            });
            return;
        }
        let slot = &mut self.ring[self.ring_head];
        slot.number = number;
        slot.bytes.clear();
        slot.bytes.extend_from_slice(line);
        self.ring_head = (self.ring_head + 1) % context;
    }

    /// The ring's lines not already in a closed block, as context lines.
    fn before_context(&self) -> Vec<RawLine> {
        let n = self.ring.len();
        (0..n)
            .map(|i| &self.ring[(self.ring_head + i) % n])
            .filter(|raw| raw.number > self.closed_through)
            .map(|raw| RawLine {
                number: raw.number,
                score: 0,
                unusual: false,
                bytes: raw.bytes.clone(),
            })
            .collect()
    }

    fn close(&mut self) {
        let Some(mut block) = self.open.take() else {
            return;
        };
        let keep_through = block.last_unusual + self.options.context as u64;
        block.lines.retain(|raw| raw.number <= keep_through);
        self.closed_through = block.lines.last().map_or(0, |raw| raw.number);
        self.blocks_found += 1;
        self.kept.push(block);
        if self.kept.len() > self.options.max_kept_blocks.max(1) {
            let worst = self
                .kept
                .iter()
                .enumerate()
                .min_by_key(|(_, b)| b.rank_key())
                .map(|(i, _)| i)
                .expect("not empty");
            self.kept.swap_remove(worst);
        }
    }
}

/// A `budget`-line window of a long block around its best line.
fn window(lines: Vec<RawLine>, budget: usize, context: usize) -> Vec<RawLine> {
    let best = lines
        .iter()
        .enumerate()
        .max_by_key(|(i, raw)| (raw.score, std::cmp::Reverse(*i)))
        .map_or(0, |(i, _)| i);
    let start = best
        .saturating_sub(context)
        .min(lines.len().saturating_sub(budget));
    lines.into_iter().skip(start).take(budget).collect()
}

/// A line for people: as a terminal would leave it (no ANSI escapes, only
/// what follows the last carriage return), lossy UTF-8, cut at `max_bytes`
/// on a character boundary.
fn display(bytes: &[u8], max_bytes: usize) -> String {
    let stripped = strip_ansi(bytes);
    let text = String::from_utf8_lossy(&stripped);
    let text = text.trim_end_matches(['\r', '\n']);
    let mut text = match text.rfind('\r') {
        Some(cr) => text[cr + 1..].to_owned(),
        None => text.to_owned(),
    };
    if text.len() > max_bytes {
        let mut cut = max_bytes;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

//! The index of ordinary lines: hashed normalised lines with the number of
//! passed logs each appeared in, bounded in size.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::normalize::line_key;

/// Default bound on the number of distinct lines kept: 16 bytes each, so at
/// most 4 MiB serialised per project.
pub const DEFAULT_CAPACITY: usize = 1 << 18;

const MAGIC: &[u8; 4] = b"IWLI";
const VERSION: u32 = 1;
const HEADER_BYTES: usize = 4 + 4 + 8 + 8 + 8;
const ENTRY_BYTES: usize = 8 + 4 + 4;

/// Keys are already well-mixed 64-bit hashes: the table uses them as they are.
#[derive(Debug, Default, Clone, Copy)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }
    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

type Table = HashMap<u64, Entry, BuildHasherDefault<KeyHasher>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// In how many learned logs the line appeared.
    logs: u32,
    /// The number of the last log it appeared in (1-based; see `logs_learned`).
    last_log: u32,
}

/// A bounded table of ordinary lines.
///
/// Eviction is deterministic: when the table grows past its capacity, the
/// lines seen in the fewest logs go first, ties broken by the least recently
/// seen, then by key; it shrinks to 7/8 of capacity at once so eviction
/// costs O(1) amortised per line. The same logs learned in the same order
/// always give the same bytes.
#[derive(Debug, Clone)]
pub struct LogIndex {
    table: Table,
    capacity: usize,
    logs_learned: u32,
    evicted: u64,
}

/// What learning one log did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LearnStats {
    pub lines: u64,
    pub bytes: u64,
    /// Lines not in the index before this log.
    pub new_lines: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IndexDecodeError {
    #[error("not a log index (bad magic bytes)")]
    Magic,
    #[error("log index version {0} is not known to this ironworks")]
    Version(u32),
    #[error("log index is truncated: {expected} bytes expected, {found} found")]
    Truncated { expected: usize, found: usize },
}

impl Default for LogIndex {
    fn default() -> Self {
        LogIndex::new(DEFAULT_CAPACITY)
    }
}

impl LogIndex {
    /// An empty index keeping at most `capacity` distinct lines (at least 16).
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(16);
        LogIndex {
            table: Table::default(),
            capacity,
            logs_learned: 0,
            evicted: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Change the bound; evicts at once if the index is over it.
    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity.max(16);
        if self.table.len() > self.capacity {
            self.evict_to(self.capacity);
        }
    }

    /// Distinct lines held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// How many logs were learned.
    pub fn logs_learned(&self) -> u32 {
        self.logs_learned
    }

    /// Lines dropped by eviction since the index was created.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// In how many learned logs the line with this key appeared (0: never,
    /// or evicted).
    #[inline]
    pub fn logs_with(&self, key: u64) -> u32 {
        self.table.get(&key).map_or(0, |e| e.logs)
    }

    /// Start learning one passed log; feed it line by line.
    pub fn learn_log(&mut self) -> LogLearner<'_> {
        self.logs_learned = self.logs_learned.saturating_add(1);
        LogLearner {
            log: self.logs_learned,
            index: self,
            scratch: Vec::with_capacity(256),
            stats: LearnStats::default(),
        }
    }

    /// Learn a whole log held in memory (tests, benchmarks); the IO edge
    /// streams with [`LogLearner::line`] instead.
    pub fn learn_text(&mut self, text: &[u8]) -> LearnStats {
        let text = text.strip_suffix(b"\n").unwrap_or(text);
        let mut learner = self.learn_log();
        for line in text.split(|&b| b == b'\n') {
            learner.line(line);
        }
        learner.finish()
    }

    #[inline]
    fn record(&mut self, key: u64, log: u32) -> bool {
        let mut new = false;
        let entry = self.table.entry(key).or_insert_with(|| {
            new = true;
            Entry {
                logs: 0,
                last_log: 0,
            }
        });
        if entry.last_log != log {
            entry.logs = entry.logs.saturating_add(1);
            entry.last_log = log;
        }
        if new && self.table.len() > self.capacity {
            self.evict_to(self.capacity - self.capacity / 8);
        }
        new
    }

    fn evict_to(&mut self, keep: usize) {
        let excess = self.table.len().saturating_sub(keep);
        if excess == 0 {
            return;
        }
        let mut order: Vec<(u32, u32, u64)> = self
            .table
            .iter()
            .map(|(&key, e)| (e.logs, e.last_log, key))
            .collect();
        order.select_nth_unstable(excess - 1);
        for &(_, _, key) in &order[..excess] {
            self.table.remove(&key);
        }
        self.evicted += excess as u64;
    }

    /// The index as bytes: a header, then entries sorted by key, all
    /// little-endian. Deterministic: equal indexes give equal bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut entries: Vec<(&u64, &Entry)> = self.table.iter().collect();
        entries.sort_unstable_by_key(|(key, _)| **key);
        let mut out = Vec::with_capacity(HEADER_BYTES + entries.len() * ENTRY_BYTES);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(self.capacity as u64).to_le_bytes());
        out.extend_from_slice(&u64::from(self.logs_learned).to_le_bytes());
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        for (key, entry) in entries {
            out.extend_from_slice(&key.to_le_bytes());
            out.extend_from_slice(&entry.logs.to_le_bytes());
            out.extend_from_slice(&entry.last_log.to_le_bytes());
        }
        out
    }

    /// Read an index written by [`LogIndex::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<LogIndex, IndexDecodeError> {
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(IndexDecodeError::Magic);
        }
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4"));
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8"));
        let version = u32_at(4);
        if version != VERSION {
            return Err(IndexDecodeError::Version(version));
        }
        if bytes.len() < HEADER_BYTES {
            return Err(IndexDecodeError::Truncated {
                expected: HEADER_BYTES,
                found: bytes.len(),
            });
        }
        let capacity = usize::try_from(u64_at(8)).unwrap_or(usize::MAX);
        let logs_learned = u32::try_from(u64_at(16)).unwrap_or(u32::MAX);
        let count = usize::try_from(u64_at(24)).unwrap_or(usize::MAX);
        let expected = count
            .checked_mul(ENTRY_BYTES)
            .and_then(|n| n.checked_add(HEADER_BYTES))
            .unwrap_or(usize::MAX);
        if bytes.len() != expected {
            return Err(IndexDecodeError::Truncated {
                expected,
                found: bytes.len(),
            });
        }
        let mut table = Table::with_capacity_and_hasher(count, Default::default());
        for i in 0..count {
            let at = HEADER_BYTES + i * ENTRY_BYTES;
            table.insert(
                u64_at(at),
                Entry {
                    logs: u32_at(at + 8),
                    last_log: u32_at(at + 12),
                },
            );
        }
        let mut index = LogIndex {
            table,
            capacity: capacity.max(16),
            logs_learned,
            evicted: 0,
        };
        if index.table.len() > index.capacity {
            index.evict_to(index.capacity);
        }
        Ok(index)
    }
}

/// Learning one log: feed its lines, then [`LogLearner::finish`].
#[derive(Debug)]
pub struct LogLearner<'a> {
    index: &'a mut LogIndex,
    log: u32,
    scratch: Vec<u8>,
    stats: LearnStats,
}

impl LogLearner<'_> {
    /// One line, without its `\n`.
    #[inline]
    pub fn line(&mut self, line: &[u8]) {
        self.stats.lines += 1;
        self.stats.bytes += line.len() as u64 + 1;
        if let Some(key) = line_key(line, &mut self.scratch)
            && self.index.record(key, self.log)
        {
            self.stats.new_lines += 1;
        }
    }

    pub fn finish(self) -> LearnStats {
        self.stats
    }
}

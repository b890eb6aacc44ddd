//! The log analyzer: which lines of a failed job's log are unusual.
//!
//! It learns which lines are ordinary from the logs of passed runs, and from
//! a failed run's log extracts the few blocks of lines that are not, with a
//! little context, so the likely error is shown first (see docs/logs.md).
//!
//! * [`normalize`] turns a raw line into a stable form: ANSI escapes,
//!   timestamps, numbers, hex ids, absolute paths and temp dirs stop making
//!   a line look new; [`line_key`] hashes that form.
//! * [`LogIndex`] is a bounded table of hashed ordinary lines with the number
//!   of passed logs each was seen in; it evicts deterministically and
//!   serialises to bytes for the store.
//! * [`Extractor`] reads a failed log line by line, in bounded memory, and
//!   returns its ranked unusual [`Block`]s.
//! * [`LineSplitter`] cuts a stream of byte chunks into lines with a length
//!   cap, so the IO edge never holds a whole file.
//!
//! Everything works on `&[u8]`: a log need not be UTF-8; text is shown
//! lossily only when a block is reported. No IO happens here.

mod extract;
mod hash;
mod index;
mod lines;
mod normalize;

pub use extract::{Block, BlockLine, ExtractOptions, Extraction, Extractor};
pub use hash::hash_bytes;
pub use index::{DEFAULT_CAPACITY, IndexDecodeError, LearnStats, LogIndex, LogLearner};
pub use lines::{DEFAULT_MAX_LINE_BYTES, LineSplitter};
pub use normalize::{line_key, normalize, strip_ansi};

#[cfg(test)]
mod tests;

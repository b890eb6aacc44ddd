//! Cutting a stream of byte chunks into lines, in bounded memory.

/// Longest line kept whole, in bytes; the rest of a longer line is dropped.
/// Enough for any real log line; a 1 GB log without a newline still costs
/// only this much.
pub const DEFAULT_MAX_LINE_BYTES: usize = 64 * 1024;

/// Feeds complete lines (without `\n`) to a callback as chunks arrive. A line
/// split across chunks is carried over; one longer than the cap is cut at
/// the cap and the rest of it skipped, so memory stays bounded whatever the
/// input is.
#[derive(Debug)]
pub struct LineSplitter {
    partial: Vec<u8>,
    max_line: usize,
    /// The current line went over the cap: skip until its end.
    overlong: bool,
}

impl Default for LineSplitter {
    fn default() -> Self {
        LineSplitter::new(DEFAULT_MAX_LINE_BYTES)
    }
}

impl LineSplitter {
    pub fn new(max_line: usize) -> Self {
        LineSplitter {
            partial: Vec::new(),
            max_line: max_line.max(1),
            overlong: false,
        }
    }

    /// Feed one chunk; `line` is called for each line it completes.
    pub fn feed(&mut self, chunk: &[u8], mut line: impl FnMut(&[u8])) {
        let mut rest = chunk;
        while let Some(newline) = rest.iter().position(|&b| b == b'\n') {
            let piece = &rest[..newline];
            if self.partial.is_empty() && !self.overlong {
                line(&piece[..piece.len().min(self.max_line)]);
            } else {
                self.take(piece);
                line(&self.partial);
                self.partial.clear();
                self.overlong = false;
            }
            rest = &rest[newline + 1..];
        }
        self.take(rest);
    }

    /// The end of the stream: a last line without `\n` is still a line.
    pub fn finish(&mut self, mut line: impl FnMut(&[u8])) {
        if !self.partial.is_empty() || self.overlong {
            line(&self.partial);
        }
        self.partial.clear();
        self.overlong = false;
    }

    fn take(&mut self, piece: &[u8]) {
        let room = self.max_line - self.partial.len();
        if piece.len() > room {
            self.overlong = true;
        }
        self.partial
            .extend_from_slice(&piece[..piece.len().min(room)]);
    }
}

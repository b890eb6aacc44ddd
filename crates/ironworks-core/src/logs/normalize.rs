//! Line normalisation: what must not make a line unusual.
//!
//! * ANSI escape sequences (colours, cursor moves) are removed, and a line
//!   rewritten with carriage returns (progress bars) keeps its last state.
//! * Runs of whitespace become one space; leading and trailing space goes.
//! * A word (a run of ASCII letters and digits) that is a number, a hex id or
//!   hash (hex digits with at least one digit, or `0x…`), or a random-looking
//!   token (digits and letters, 20+ characters long, or 6+ with both upper
//!   and lower case: `Xk2aB9`) becomes `0`; in any other word each run of
//!   digits becomes `0`. A 12+ letter word whose case flips at least every
//!   third letter (`wUBogmyQmgZXon`) is a generated id too. Timestamps,
//!   durations, counters, versions and addresses all fall out of this:
//!   `2026-11-21T09:42:04.123Z` → `0-0-0T0:0:0.0Z`.
//! * An absolute path (a `/` at the start of a token) becomes `<path>/` and
//!   its last component, normalised like any text; a temp dir (a last
//!   component starting with `tmp` or `.tmp`) becomes `<path>/tmp`.
//!
//! English words stay as they are: `bad`, `cafe` and `deadbeef` have no digit.

use super::hash::hash_bytes;

/// Escape byte that starts an ANSI sequence.
const ESC: u8 = 0x1b;
/// What an absolute path is replaced by, before its last component.
const PATH_MARK: &[u8] = b"<path>/";

/// Normalise one line (without its `\n`) into `out`, which is cleared
/// first. Reusing `out` keeps learning free of per-line allocation.
pub fn normalize(line: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let line = last_rewrite(line);
    let mut i = 0;
    let mut space = false;
    while i < line.len() {
        let byte = line[i];
        if byte.is_ascii_alphanumeric() {
            if space {
                out.push(b' ');
                space = false;
            }
            let end = word_end(line, i);
            push_word(&line[i..end], out);
            i = end;
        } else if byte == ESC {
            i = skip_escape(line, i);
        } else if byte <= b' ' || byte == 0x7f {
            space = !out.is_empty();
            i += 1;
        } else if byte == b'/' && path_starts(line, i, out, space) {
            if space {
                out.push(b' ');
                space = false;
            }
            let end = path_end(line, i);
            push_path(&line[i..end], out);
            i = end;
        } else {
            if space {
                out.push(b' ');
                space = false;
            }
            out.push(byte);
            i += 1;
        }
    }
}

/// The key of a line in the index: the hash of its normalised form, or
/// `None` when the line has no letter or digit at all (blank lines, rules
/// of dashes), which are never unusual.
#[inline]
pub fn line_key(line: &[u8], scratch: &mut Vec<u8>) -> Option<u64> {
    normalize(line, scratch);
    if scratch.iter().any(u8::is_ascii_alphanumeric) {
        Some(hash_bytes(scratch))
    } else {
        None
    }
}

/// `line` without ANSI escape sequences, for display.
pub fn strip_ansi(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        if line[i] == ESC {
            i = skip_escape(line, i);
        } else {
            out.push(line[i]);
            i += 1;
        }
    }
    out
}

/// The part of a line after its last carriage return (ignoring trailing
/// ones): what a terminal would show after a progress bar redraws itself.
fn last_rewrite(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && (line[end - 1] == b'\r' || line[end - 1] == b'\n') {
        end -= 1;
    }
    let line = &line[..end];
    match line.iter().rposition(|&b| b == b'\r') {
        Some(cr) => &line[cr + 1..],
        None => line,
    }
}

#[inline]
fn word_end(line: &[u8], start: usize) -> usize {
    let mut end = start + 1;
    while end < line.len() && line[end].is_ascii_alphanumeric() {
        end += 1;
    }
    end
}

/// A word, normalised (see the module docs).
#[inline]
fn push_word(word: &[u8], out: &mut Vec<u8>) {
    let mut digits = false;
    let mut hex = true;
    let mut letters = false;
    let (mut upper, mut lower) = (false, false);
    for &b in word {
        if b.is_ascii_digit() {
            digits = true;
        } else {
            letters = true;
            hex &= b.is_ascii_hexdigit();
            upper |= b.is_ascii_uppercase();
            lower |= b.is_ascii_lowercase();
        }
    }
    if !digits {
        if upper && lower && word.len() >= 12 && random_case(word) {
            out.push(b'0');
        } else {
            out.extend_from_slice(word);
        }
        return;
    }
    let prefixed_hex = word.len() > 2
        && word[0] == b'0'
        && (word[1] == b'x' || word[1] == b'X')
        && word[2..].iter().all(u8::is_ascii_hexdigit);
    // Base62/base64 ids: long, or mixing digits with both letter cases.
    let random = letters && (word.len() >= 20 || (word.len() >= 6 && upper && lower));
    if hex || prefixed_hex || random {
        out.push(b'0');
        return;
    }
    let mut in_digits = false;
    for &b in word {
        if b.is_ascii_digit() {
            if !in_digits {
                out.push(b'0');
                in_digits = true;
            }
        } else {
            out.push(b);
            in_digits = false;
        }
    }
}

/// Letters whose case flips at least every third character: a generated
/// id (`wUBogmyQmgZXonVJEyHyNR` flips 11 times in 22), not a CamelCase
/// name (`ConnectBlockHeaderValidation` flips 7 times in 28).
fn random_case(word: &[u8]) -> bool {
    let flips = word
        .windows(2)
        .filter(|w| w[0].is_ascii_uppercase() != w[1].is_ascii_uppercase())
        .count();
    flips * 3 >= word.len()
}

/// Skip an ANSI escape sequence starting at `start` (an ESC byte); returns
/// the index after it. CSI (`ESC [ … final`), OSC (`ESC ] … BEL` or
/// `ESC ] … ESC \`) and two-byte escapes are understood.
fn skip_escape(line: &[u8], start: usize) -> usize {
    let mut i = start + 1;
    match line.get(i) {
        Some(b'[') => {
            i += 1;
            while i < line.len() && !(0x40..=0x7e).contains(&line[i]) {
                i += 1;
            }
            (i + 1).min(line.len())
        }
        Some(b']') => {
            i += 1;
            while i < line.len() {
                if line[i] == 0x07 {
                    return i + 1;
                }
                if line[i] == ESC && line.get(i + 1) == Some(&b'\\') {
                    return i + 2;
                }
                i += 1;
            }
            i
        }
        Some(_) => i + 1,
        None => i,
    }
}

/// A `/` starts an absolute path when it begins a token (start of line,
/// after space, a quote, a bracket, `=`, `:` or `,`) and is followed by a
/// path character: `a/b`, `1/2` and a lone ` / ` are not paths.
#[inline]
fn path_starts(line: &[u8], at: usize, out: &[u8], space: bool) -> bool {
    let before_ok = space
        || match out.last() {
            None => true,
            Some(b) => matches!(
                b,
                b'"' | b'\'' | b'`' | b'(' | b'[' | b'<' | b'{' | b'=' | b':' | b','
            ),
        };
    before_ok
        && line
            .get(at + 1)
            .is_some_and(|&b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'~'))
}

#[inline]
fn path_end(line: &[u8], start: usize) -> usize {
    let mut end = start;
    while end < line.len() {
        match line[end] {
            b if b <= b' ' => break,
            b'"' | b'\'' | b'`' | b')' | b']' | b'>' | b'}' | b',' | b';' | b':' | ESC => break,
            _ => end += 1,
        }
    }
    end
}

/// An absolute path: the mark, then its last component normalised.
fn push_path(path: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(PATH_MARK);
    let last = match path.iter().rposition(|&b| b == b'/') {
        Some(slash) => &path[slash + 1..],
        None => path,
    };
    if last.starts_with(b"tmp") || last.starts_with(b".tmp") {
        out.extend_from_slice(b"tmp");
        return;
    }
    let mut i = 0;
    while i < last.len() {
        if last[i].is_ascii_alphanumeric() {
            let end = word_end(last, i);
            push_word(&last[i..end], out);
            i = end;
        } else {
            out.push(last[i]);
            i += 1;
        }
    }
}

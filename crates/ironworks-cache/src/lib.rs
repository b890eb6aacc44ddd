//! The Ironworks fixture store: pinned inputs for harden jobs, fetched once
//! into a content-addressed cache, verified by size and sha256 before every
//! use, and unpacked into a fresh directory per run.
//!
//! * [`FixtureStore::fetch`] returns the verified cache entry, downloading it
//!   first when it is absent. Downloads go to a temp file in the cache
//!   directory and are renamed into place only after size and digest match,
//!   so an interrupted download or a full disk never leaves a bad entry.
//! * [`unpack`] lays a verified file out in a run directory, refusing archive
//!   entries that would escape it; it builds the tree beside the destination
//!   and renames it into place only when complete.
//!
//! The declarations themselves (and their validation) are
//! [`ironworks_core::fixture`]. See `docs/fixtures.md`.

mod error;
mod store;
mod unpack;

pub use error::{FixtureError, SourceError, SourceFailure};
pub use store::{FixtureStore, RetryPolicy};
pub use unpack::unpack;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Read size for hashing: large enough that syscalls are noise next to the
/// hash itself (measured in `docs/benchmarks.md`).
pub const HASH_BUFFER: usize = 1 << 20;

/// Size and lowercase hex sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> io::Result<(u64, String)> {
    sha256_reader(&mut File::open(path)?)
}

/// Size and lowercase hex sha256 of everything `reader` yields.
pub fn sha256_reader(reader: &mut dyn Read) -> io::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    let mut size = 0u64;
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(err),
        };
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_known_inputs() {
        let (size, digest) = sha256_reader(&mut &b"abc"[..]).unwrap();
        assert_eq!(size, 3);
        assert_eq!(
            digest,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Longer than one buffer, so the loop runs more than once.
        let big = vec![b'a'; HASH_BUFFER + 17];
        let (size, digest) = sha256_reader(&mut &big[..]).unwrap();
        assert_eq!(size, big.len() as u64);
        assert_eq!(digest, hex(&Sha256::digest(&big)));
    }
}

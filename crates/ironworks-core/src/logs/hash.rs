//! A fast non-cryptographic 64-bit hash for normalised lines.
//!
//! Written here rather than taken from a crate: it is a dozen lines, and
//! the index stores these values, so they must never change with a
//! dependency upgrade. Each 8-byte word is mixed with a folded 64×64→128-bit
//! multiply (the wyhash / rapidhash construction), which is both fast and
//! well distributed; the index uses the value itself as its table hash.

const K0: u64 = 0xa076_1d64_78bd_642f;
const K1: u64 = 0xe703_7ed1_a0b4_28db;
const K2: u64 = 0x8ebc_6af0_9c88_c6e3;

#[inline(always)]
fn fold(a: u64, b: u64) -> u64 {
    let product = (a as u128).wrapping_mul(b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The hash of `bytes`. Stable across versions: stored indexes depend on it.
#[inline]
pub fn hash_bytes(bytes: &[u8]) -> u64 {
    let mut state = K0 ^ (bytes.len() as u64).wrapping_mul(K1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
        state = fold(state ^ word, K1);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut tail = [0u8; 8];
        tail[..rest.len()].copy_from_slice(rest);
        state = fold(state ^ u64::from_le_bytes(tail), K2);
    }
    fold(state ^ K2, K1 ^ (bytes.len() as u64))
}

/* toynode chain format: one block per line, "HEIGHT PREV_HASH PAYLOAD". */
#ifndef TOYNODE_CHAIN_H
#define TOYNODE_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#define CHAIN_HASH_HEX 16      /* hex digits in a printed hash */
#define CHAIN_MAX_PAYLOAD 200  /* payload bytes, excluding NUL */
#define CHAIN_MAX_LINE 256     /* longest valid line (20+1+16+1+200) plus slack */
#define CHAIN_GENESIS_PREV "0000000000000000"

struct block {
    uint64_t height;
    char prev_hash[CHAIN_HASH_HEX + 1]; /* NUL-terminated, lowercase hex */
    char payload[CHAIN_MAX_PAYLOAD + 1]; /* NUL-terminated, bytes 0x21..0x7e */
    size_t payload_len;
};

enum chain_err {
    CHAIN_OK = 0,
    CHAIN_ERR_EMPTY,       /* no bytes at all */
    CHAIN_ERR_HEIGHT,      /* height missing, not decimal, leading zero, overflow */
    CHAIN_ERR_PREV,        /* prev hash not exactly 16 lowercase hex digits */
    CHAIN_ERR_PAYLOAD,     /* payload empty, too long, or not printable/no-space */
    CHAIN_ERR_GENESIS,     /* first block is not height 0 with zero prev hash */
    CHAIN_ERR_LINK_HEIGHT, /* height is not previous height + 1 */
    CHAIN_ERR_LINK_PREV    /* prev hash is not the hash of the previous block */
};

const char *chain_strerror(int err);

/* FNV-1a 64-bit, continuing from state h (start with CHAIN_FNV_OFFSET). */
#define CHAIN_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
uint64_t chain_fnv1a(uint64_t h, const void *data, size_t len);

/* Parse a decimal uint64 from exactly len bytes; rejects signs, leading
 * zeros and overflow. Returns 0 on success, -1 otherwise. */
int chain_parse_u64(const char *s, size_t len, uint64_t *out);

/* Parse one block from arbitrary bytes (need not be NUL-terminated). One
 * trailing "\n", "\r\n" or "\r" is tolerated. *out is always initialised. */
int chain_parse_block(const char *data, size_t len, struct block *out);

/* Convenience wrapper for a NUL-terminated line. */
int chain_parse_line(const char *line, struct block *out);

/* Hash = FNV-1a over "PREV_HASH|PAYLOAD". */
uint64_t chain_block_hash(const struct block *b);
void chain_hash_hex(uint64_t h, char out[CHAIN_HASH_HEX + 1]);

/* Check that next may follow prev; prev == NULL means next must be genesis. */
int chain_check_link(const struct block *prev, const struct block *next);

/* Validate a whole sequence; on failure *bad (if non-NULL) is the index of
 * the offending block. An empty sequence is an error (no best block). */
int chain_validate(const struct block *blocks, size_t n, size_t *bad);

/* Build the next deterministic block after prev (NULL: genesis). */
void chain_mine_next(const struct block *prev, struct block *out);

/* Write "HEIGHT PREV PAYLOAD" (no newline) like snprintf. */
int chain_format_block(const struct block *b, char *buf, size_t cap);

#endif

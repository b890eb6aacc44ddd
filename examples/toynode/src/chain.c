#include "chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *chain_strerror(int err)
{
    switch (err) {
    case CHAIN_OK: return "ok";
    case CHAIN_ERR_EMPTY: return "empty line";
    case CHAIN_ERR_HEIGHT: return "malformed height";
    case CHAIN_ERR_PREV: return "malformed prev hash";
    case CHAIN_ERR_PAYLOAD: return "malformed payload";
    case CHAIN_ERR_GENESIS: return "first block is not a valid genesis";
    case CHAIN_ERR_LINK_HEIGHT: return "height does not follow previous block";
    case CHAIN_ERR_LINK_PREV: return "prev hash does not match previous block";
    }
    return "unknown error";
}

uint64_t chain_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    size_t i;
    for (i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

int chain_parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    size_t i;
    /* Leading zeros are rejected so every height has one canonical spelling. */
    if (len == 0 || (len > 1 && s[0] == '0'))
        return -1;
    for (i = 0; i < len; i++) {
        unsigned d;
        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        /* Check before multiplying: unsigned wrap would be silent, not UB. */
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int chain_parse_block(const char *data, size_t len, struct block *out)
{
    const char *sp, *p, *end;
    size_t i;

    memset(out, 0, sizeof *out);
    if (data == NULL || len == 0)
        return CHAIN_ERR_EMPTY;
    /* Accept text files with LF or CRLF line endings (callers may or may
     * not have removed the '\n' already). */
    if (data[len - 1] == '\n')
        len--;
    if (len > 0 && data[len - 1] == '\r')
        len--;
    if (len == 0)
        return CHAIN_ERR_EMPTY;
    end = data + len;

    /* memchr is length-bounded, so embedded NULs cannot cause over-reads. */
    sp = memchr(data, ' ', len);
    if (sp == NULL || chain_parse_u64(data, (size_t)(sp - data), &out->height) != 0)
        return CHAIN_ERR_HEIGHT;

    p = sp + 1;
    if ((size_t)(end - p) < CHAIN_HASH_HEX + 1 || p[CHAIN_HASH_HEX] != ' ')
        return CHAIN_ERR_PREV;
    for (i = 0; i < CHAIN_HASH_HEX; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return CHAIN_ERR_PREV;
    }
    memcpy(out->prev_hash, p, CHAIN_HASH_HEX);
    out->prev_hash[CHAIN_HASH_HEX] = '\0';

    p += CHAIN_HASH_HEX + 1;
    out->payload_len = (size_t)(end - p);
    if (out->payload_len == 0 || out->payload_len > CHAIN_MAX_PAYLOAD) {
        out->payload_len = 0;
        return CHAIN_ERR_PAYLOAD;
    }
    /* Printable ASCII without space: keeps the line format unambiguous. */
    for (i = 0; i < out->payload_len; i++) {
        if (p[i] < 0x21 || p[i] > 0x7e) {
            out->payload_len = 0;
            return CHAIN_ERR_PAYLOAD;
        }
    }
    memcpy(out->payload, p, out->payload_len);
    out->payload[out->payload_len] = '\0';
    return CHAIN_OK;
}

int chain_parse_line(const char *line, struct block *out)
{
    return chain_parse_block(line, line ? strlen(line) : 0, out);
}

uint64_t chain_block_hash(const struct block *b)
{
    uint64_t h = chain_fnv1a(CHAIN_FNV_OFFSET, b->prev_hash, CHAIN_HASH_HEX);
    h = chain_fnv1a(h, "|", 1);
    return chain_fnv1a(h, b->payload, b->payload_len);
}

void chain_hash_hex(uint64_t h, char out[CHAIN_HASH_HEX + 1])
{
    snprintf(out, CHAIN_HASH_HEX + 1, "%016" PRIx64, h);
}

int chain_check_link(const struct block *prev, const struct block *next)
{
    char want[CHAIN_HASH_HEX + 1];
    if (prev == NULL) {
        if (next->height != 0 || strcmp(next->prev_hash, CHAIN_GENESIS_PREV) != 0)
            return CHAIN_ERR_GENESIS;
        return CHAIN_OK;
    }
    /* Written as next-1 == prev so UINT64_MAX heights cannot wrap to 0. */
    if (next->height == 0 || next->height - 1 != prev->height)
        return CHAIN_ERR_LINK_HEIGHT;
    chain_hash_hex(chain_block_hash(prev), want);
    if (strcmp(next->prev_hash, want) != 0)
        return CHAIN_ERR_LINK_PREV;
    return CHAIN_OK;
}

int chain_validate(const struct block *blocks, size_t n, size_t *bad)
{
    size_t i;
    if (n == 0) {
        if (bad)
            *bad = 0;
        return CHAIN_ERR_EMPTY;
    }
    for (i = 0; i < n; i++) {
        int err = chain_check_link(i ? &blocks[i - 1] : NULL, &blocks[i]);
        if (err != CHAIN_OK) {
            if (bad)
                *bad = i;
            return err;
        }
    }
    return CHAIN_OK;
}

void chain_mine_next(const struct block *prev, struct block *out)
{
    int n;
    memset(out, 0, sizeof *out);
    if (prev == NULL) {
        memcpy(out->prev_hash, CHAIN_GENESIS_PREV, CHAIN_HASH_HEX);
        n = snprintf(out->payload, sizeof out->payload, "genesis");
    } else {
        out->height = prev->height + 1;
        chain_hash_hex(chain_block_hash(prev), out->prev_hash);
        n = snprintf(out->payload, sizeof out->payload, "block-%" PRIu64, out->height);
    }
    out->payload_len = (size_t)n; /* at most 26 bytes, always fits */
}

int chain_format_block(const struct block *b, char *buf, size_t cap)
{
    return snprintf(buf, cap, "%" PRIu64 " %s %s", b->height, b->prev_hash, b->payload);
}

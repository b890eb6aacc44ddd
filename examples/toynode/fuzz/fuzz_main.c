/* toynode fuzz harness, Bitcoin Core style: one libFuzzer binary, several
 * targets, the target chosen by the FUZZ environment variable.
 *
 *   FUZZ=parse_block build-fuzz/fuzz -max_total_time=10 corpus/
 *   PRINT_ALL_FUZZ_TARGETS_AND_ABORT=1 build-fuzz/fuzz   # one name per line
 *
 * parse_block and replay_chain fuzz the product. canary and hang do not:
 * they exist so the pipeline's crash and hang handling can be proven on a
 * real binary without planting a bug in chain.c. canary reads past the end
 * of a heap buffer when the input starts with "FUZZ" (libFuzzer finds that
 * prefix within seconds); hang spins forever when the input starts with
 * "HANG" (a -timeout hit, which must be reported as a timeout, not a crash).
 */
#include "chain.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLAY_MAX_BLOCKS 64

/* A broken property is a bug: abort so libFuzzer keeps the input. */
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond,       \
                    __FILE__, __LINE__);                                     \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Parse arbitrary bytes; a block that parses must survive a format/parse
 * round trip unchanged. */
static void fuzz_parse_block(const uint8_t *data, size_t size)
{
    struct block b, again;
    char line[CHAIN_MAX_LINE + 64];
    int n;

    if (chain_parse_block((const char *)data, size, &b) != CHAIN_OK)
        return;
    CHECK(b.payload_len >= 1 && b.payload_len <= CHAIN_MAX_PAYLOAD);
    CHECK(strlen(b.payload) == b.payload_len);
    n = chain_format_block(&b, line, sizeof line);
    CHECK(n > 0 && (size_t)n < sizeof line);
    CHECK(chain_parse_line(line, &again) == CHAIN_OK);
    CHECK(again.height == b.height);
    CHECK(strcmp(again.prev_hash, b.prev_hash) == 0);
    CHECK(again.payload_len == b.payload_len);
    CHECK(memcmp(again.payload, b.payload, b.payload_len) == 0);
}

/* Parse newline-separated blocks and validate the chain; chain_validate must
 * agree with linking the blocks one by one. */
static void fuzz_replay_chain(const uint8_t *data, size_t size)
{
    static struct block blocks[REPLAY_MAX_BLOCKS];
    const char *p = (const char *)data, *end = p + size;
    size_t n = 0, bad = 0, i;
    int err, want = CHAIN_OK;

    while (p < end && n < REPLAY_MAX_BLOCKS) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (chain_parse_block(p, len, &blocks[n]) != CHAIN_OK)
            return;
        n++;
        p += len + (nl ? 1 : 0);
    }
    err = chain_validate(blocks, n, &bad);
    if (n == 0) {
        CHECK(err == CHAIN_ERR_EMPTY);
        return;
    }
    for (i = 0; i < n; i++) {
        want = chain_check_link(i ? &blocks[i - 1] : NULL, &blocks[i]);
        if (want != CHAIN_OK)
            break;
    }
    CHECK(err == want);
    if (err != CHAIN_OK)
        CHECK(bad == i);
    else
        CHECK(chain_validate(blocks, n, NULL) == CHAIN_OK);
}

/* Kept out of line so the crash has a stable, recognisable top frame. */
__attribute__((noinline)) static int canary_peek(const char *buf, size_t len)
{
    return buf[len]; /* one past the end: a heap-buffer-overflow under ASan */
}

static void fuzz_canary(const uint8_t *data, size_t size)
{
    char *copy;
    if (size < 4 || data[0] != 'F' || data[1] != 'U' || data[2] != 'Z' || data[3] != 'Z')
        return;
    copy = malloc(size);
    if (copy == NULL)
        return;
    memcpy(copy, data, size);
    if (canary_peek(copy, size) == 0x7f)
        fputs("fuzz: canary\n", stderr);
    free(copy);
}

__attribute__((noinline)) static void hang_forever(void)
{
    volatile unsigned long spin = 0;
    for (;;)
        spin++;
}

static void fuzz_hang(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "HANG", 4) == 0)
        hang_forever();
}

struct target {
    const char *name;
    void (*run)(const uint8_t *, size_t);
};

static const struct target targets[] = {
    {"canary", fuzz_canary},
    {"hang", fuzz_hang},
    {"parse_block", fuzz_parse_block},
    {"replay_chain", fuzz_replay_chain},
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

static const struct target *selected;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *want = getenv("FUZZ");
    size_t i;
    (void)argc;
    (void)argv;
    if (getenv("PRINT_ALL_FUZZ_TARGETS_AND_ABORT") != NULL) {
        for (i = 0; i < N_TARGETS; i++)
            printf("%s\n", targets[i].name);
        fflush(stdout);
        exit(EXIT_SUCCESS);
    }
    for (i = 0; want != NULL && i < N_TARGETS; i++) {
        if (strcmp(targets[i].name, want) == 0) {
            selected = &targets[i];
            return 0;
        }
    }
    fprintf(stderr, "fuzz: %s FUZZ target; set FUZZ to one of:\n",
            want ? "unknown" : "no");
    for (i = 0; i < N_TARGETS; i++)
        fprintf(stderr, "  %s\n", targets[i].name);
    exit(EXIT_FAILURE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    selected->run(data, size);
    return 0;
}

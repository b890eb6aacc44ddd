/* Minimal test harness for chain.c; optional argv[1] = JUnit XML path. */
#include "chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A test returns NULL on success or a static failure message. */
typedef const char *(*test_fn)(void);

static char failbuf[256];
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            snprintf(failbuf, sizeof failbuf, "line %d: %s", __LINE__, #cond); \
            return failbuf;                                                  \
        }                                                                    \
    } while (0)

/* Parse from an exact-size heap copy so ASan flags any read past len. */
static int parse_exact(const char *s, size_t len, struct block *b)
{
    char *copy = malloc(len ? len : 1);
    int err;
    if (copy == NULL)
        abort();
    memcpy(copy, s, len);
    err = chain_parse_block(copy, len, b);
    free(copy);
    return err;
}

static int hash_is(const struct block *b, const char *hex)
{
    char got[CHAIN_HASH_HEX + 1];
    chain_hash_hex(chain_block_hash(b), got);
    return strcmp(got, hex) == 0;
}

static const char *test_fnv1a_vectors(void)
{
    /* Published FNV-1a 64 vectors, cross-checked with an independent Python
     * implementation; the genesis value pins the "PREV|PAYLOAD" layout. */
    struct block g;
    CHECK(chain_fnv1a(CHAIN_FNV_OFFSET, "", 0) == UINT64_C(0xcbf29ce484222325));
    CHECK(chain_fnv1a(CHAIN_FNV_OFFSET, "a", 1) == UINT64_C(0xaf63dc4c8601ec8c));
    CHECK(chain_fnv1a(CHAIN_FNV_OFFSET, "foobar", 6) == UINT64_C(0x85944171f73967e8));
    CHECK(chain_parse_line("0 0000000000000000 genesis", &g) == CHAIN_OK);
    CHECK(hash_is(&g, "331f254e727437c3"));
    return NULL;
}

static const char *test_parse_good(void)
{
    struct block b;
    CHECK(chain_parse_line("42 0123456789abcdef hello-world!\n", &b) == CHAIN_OK);
    CHECK(b.height == 42);
    CHECK(strcmp(b.prev_hash, "0123456789abcdef") == 0);
    CHECK(strcmp(b.payload, "hello-world!") == 0 && b.payload_len == 12);
    CHECK(chain_parse_line("7 0000000000000000 x\r\n", &b) == CHAIN_OK);
    CHECK(chain_parse_line("18446744073709551615 0000000000000000 max", &b) == CHAIN_OK);
    CHECK(b.height == UINT64_MAX);
    return NULL;
}

static const char *test_parse_malformed(void)
{
    static const struct { const char *s; size_t len; int err; } cases[] = {
        {"", 0, CHAIN_ERR_EMPTY},
        {"\n", 1, CHAIN_ERR_EMPTY},
        {"1", 1, CHAIN_ERR_HEIGHT},
        {" 0000000000000000 x", 19, CHAIN_ERR_HEIGHT},
        {"-1 0000000000000000 x", 21, CHAIN_ERR_HEIGHT},
        {"01 0000000000000000 x", 21, CHAIN_ERR_HEIGHT},
        {"18446744073709551616 0000000000000000 x", 39, CHAIN_ERR_HEIGHT},
        {"99999999999999999999999 0000000000000000 x", 42, CHAIN_ERR_HEIGHT},
        {"1 000000000000000 x", 19, CHAIN_ERR_PREV},
        {"1 00000000000000000 x", 21, CHAIN_ERR_PREV},
        {"1 ABCDEF0000000000 x", 20, CHAIN_ERR_PREV},
        {"1 0000000000000000", 18, CHAIN_ERR_PREV},
        {"1 0000000000000000 ", 19, CHAIN_ERR_PAYLOAD},
        {"1 0000000000000000 a b", 22, CHAIN_ERR_PAYLOAD},
        {"1 0000000000000000 a\tb", 22, CHAIN_ERR_PAYLOAD},
        {"1 0000000000000000 a\0b", 22, CHAIN_ERR_PAYLOAD},
        {"1\0 0000000000000000 x", 21, CHAIN_ERR_HEIGHT},
        {"1 0000000000000000 \xff", 20, CHAIN_ERR_PAYLOAD},
    };
    char line[CHAIN_MAX_LINE + 64];
    struct block b;
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int err = parse_exact(cases[i].s, cases[i].len, &b);
        if (err != cases[i].err) {
            snprintf(failbuf, sizeof failbuf, "case %u: got %s, want %s", (unsigned)i,
                     chain_strerror(err), chain_strerror(cases[i].err));
            return failbuf;
        }
    }
    /* Payload length boundary: 200 bytes ok, 201 rejected. */
    memcpy(line, "1 0000000000000000 ", 19);
    memset(line + 19, 'p', 201);
    CHECK(parse_exact(line, 19 + 200, &b) == CHAIN_OK && b.payload_len == 200);
    CHECK(parse_exact(line, 19 + 201, &b) == CHAIN_ERR_PAYLOAD);
    CHECK(chain_parse_block(NULL, 0, &b) == CHAIN_ERR_EMPTY);
    return NULL;
}

static const char *test_parse_respects_len(void)
{
    /* Bytes past len must be ignored even when they would make it valid. */
    struct block b;
    const char *s = "5 00000000000000ff payload-tail";
    CHECK(parse_exact(s, 26, &b) == CHAIN_OK);
    CHECK(strcmp(b.payload, "payload") == 0);
    CHECK(parse_exact(s, 10, &b) == CHAIN_ERR_PREV);
    return NULL;
}

static const char *test_link_good(void)
{
    struct block bs[3];
    size_t bad = 99;
    chain_mine_next(NULL, &bs[0]);
    chain_mine_next(&bs[0], &bs[1]);
    chain_mine_next(&bs[1], &bs[2]);
    CHECK(strcmp(bs[1].prev_hash, "331f254e727437c3") == 0);
    CHECK(strcmp(bs[2].payload, "block-2") == 0);
    CHECK(chain_validate(bs, 3, &bad) == CHAIN_OK);
    return NULL;
}

static const char *test_link_bad(void)
{
    struct block bs[3], orig;
    size_t bad = 99;
    chain_mine_next(NULL, &bs[0]);
    chain_mine_next(&bs[0], &bs[1]);
    chain_mine_next(&bs[1], &bs[2]);
    orig = bs[2];

    CHECK(chain_validate(bs, 0, &bad) == CHAIN_ERR_EMPTY);
    bs[2].height = 3;
    CHECK(chain_validate(bs, 3, &bad) == CHAIN_ERR_LINK_HEIGHT && bad == 2);
    bs[2] = orig;
    bs[2].prev_hash[0] = bs[2].prev_hash[0] == '0' ? '1' : '0';
    CHECK(chain_validate(bs, 3, &bad) == CHAIN_ERR_LINK_PREV && bad == 2);
    bs[2] = orig;
    /* Tampering with a payload breaks the next block's link. */
    strcpy(bs[1].payload, "forged");
    bs[1].payload_len = 6;
    CHECK(chain_validate(bs, 3, &bad) == CHAIN_ERR_LINK_PREV && bad == 2);
    CHECK(chain_validate(bs + 1, 2, &bad) == CHAIN_ERR_GENESIS && bad == 0);
    return NULL;
}

static const char *test_mine_replay_roundtrip(void)
{
    enum { N = 50 };
    static struct block mined[N + 1], parsed[N + 1];
    char line[CHAIN_MAX_LINE];
    size_t i;
    for (i = 0; i <= N; i++) {
        int len;
        chain_mine_next(i ? &mined[i - 1] : NULL, &mined[i]);
        len = chain_format_block(&mined[i], line, sizeof line);
        CHECK(len > 0 && (size_t)len < sizeof line);
        CHECK(parse_exact(line, (size_t)len, &parsed[i]) == CHAIN_OK);
        CHECK(memcmp(&mined[i], &parsed[i], sizeof mined[i]) == 0);
    }
    CHECK(chain_validate(parsed, N + 1, NULL) == CHAIN_OK);
    CHECK(parsed[N].height == N);
    return NULL;
}

static void xml_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

int main(int argc, char **argv)
{
    static const struct { const char *name; test_fn fn; } tests[] = {
        {"fnv1a_vectors", test_fnv1a_vectors},
        {"parse_good", test_parse_good},
        {"parse_malformed", test_parse_malformed},
        {"parse_respects_len", test_parse_respects_len},
        {"link_good", test_link_good},
        {"link_bad", test_link_bad},
        {"mine_replay_roundtrip", test_mine_replay_roundtrip},
    };
    enum { NTESTS = sizeof tests / sizeof tests[0] };
    char msgs[NTESTS][sizeof failbuf];
    double secs[NTESTS], total = 0;
    int failures = 0, i;
    FILE *xml;

    for (i = 0; i < NTESTS; i++) {
        clock_t t0 = clock();
        const char *msg = tests[i].fn();
        secs[i] = (double)(clock() - t0) / CLOCKS_PER_SEC;
        total += secs[i];
        msgs[i][0] = '\0';
        if (msg) {
            failures++;
            snprintf(msgs[i], sizeof msgs[i], "%s", msg);
            printf("FAIL %s: %s\n", tests[i].name, msg);
        } else {
            printf("ok %s\n", tests[i].name);
        }
    }
    printf("%d/%d tests passed\n", NTESTS - failures, NTESTS);

    if (argc > 1) {
        if ((xml = fopen(argv[1], "w")) == NULL) {
            perror(argv[1]);
            return 1;
        }
        fprintf(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
                     "  <testsuite name=\"chain\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
                     "skipped=\"0\" time=\"%.6f\">\n", (int)NTESTS, failures, total);
        for (i = 0; i < NTESTS; i++) {
            fprintf(xml, "    <testcase classname=\"chain\" name=\"%s\" time=\"%.6f\"",
                    tests[i].name, secs[i]);
            if (msgs[i][0]) {
                fputs("><failure message=\"", xml);
                xml_escape(xml, msgs[i]);
                fputs("\"/></testcase>\n", xml);
            } else {
                fputs("/>\n", xml);
            }
        }
        fputs("  </testsuite>\n</testsuites>\n", xml);
        if (fclose(xml) != 0) {
            perror(argv[1]);
            return 1;
        }
    }
    return failures ? 1 : 0;
}

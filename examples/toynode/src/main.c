/* toynode: replay, mine and version subcommands over the chain format. */
#include "chain.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TOYNODE_VERSION "0.1.0"
#define MINE_MAX UINT64_C(100000000) /* keeps "mine" from running forever */

static int usage(void)
{
    fprintf(stderr, "usage: toynode replay FILE | toynode mine N | toynode version\n");
    return 2;
}

/* Read one line into buf without its '\n'. Returns bytes stored, or -1 at
 * EOF. Over-long lines are consumed fully and flagged, so a huge line can
 * neither overflow buf nor be misread as several blocks. */
static long read_line(FILE *f, char *buf, size_t cap, int *too_long)
{
    size_t n = 0;
    int c, any = 0;
    *too_long = 0;
    while ((c = getc(f)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (n < cap)
            buf[n++] = (char)c;
        else
            *too_long = 1;
    }
    return any ? (long)n : -1;
}

static int replay(const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char buf[CHAIN_MAX_LINE];
    struct block prev, cur;
    uint64_t blocks = 0;
    unsigned long lineno = 0;
    char hex[CHAIN_HASH_HEX + 1];
    long n;
    int too_long, err = CHAIN_OK;

    if (f == NULL) {
        perror(path);
        return 1;
    }
    while ((n = read_line(f, buf, sizeof buf, &too_long)) >= 0) {
        lineno++;
        if (too_long) {
            err = CHAIN_ERR_PAYLOAD;
            break;
        }
        err = chain_parse_block(buf, (size_t)n, &cur);
        if (err == CHAIN_OK)
            err = chain_check_link(blocks ? &prev : NULL, &cur);
        if (err != CHAIN_OK)
            break;
        prev = cur;
        blocks++;
    }
    if (err == CHAIN_OK && ferror(f)) {
        perror(path);
        err = -1;
    } else if (err != CHAIN_OK) {
        fprintf(stderr, "toynode: %s: line %lu: %s%s\n", path, lineno,
                chain_strerror(err), too_long ? " (line too long)" : "");
    } else if (blocks == 0) {
        fprintf(stderr, "toynode: %s: chain is empty\n", path);
        err = CHAIN_ERR_EMPTY;
    }
    if (f != stdin)
        fclose(f);
    if (err != CHAIN_OK)
        return 1;

    chain_hash_hex(chain_block_hash(&prev), hex);
    printf("{\"height\":%" PRIu64 ",\"best_hash\":\"%s\",\"blocks\":%" PRIu64 "}\n",
           prev.height, hex, blocks);
    return 0;
}

static int mine(const char *arg)
{
    struct block prev, cur;
    char line[CHAIN_MAX_LINE];
    uint64_t n, i;

    if (chain_parse_u64(arg, strlen(arg), &n) != 0 || n > MINE_MAX) {
        fprintf(stderr, "toynode: mine: N must be a decimal number <= %" PRIu64 "\n", MINE_MAX);
        return 2;
    }
    chain_mine_next(NULL, &cur);
    for (i = 0;; i++) {
        chain_format_block(&cur, line, sizeof line);
        puts(line);
        if (i == n)
            break;
        prev = cur;
        chain_mine_next(&prev, &cur);
    }
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "replay") == 0)
        return replay(argv[2]);
    if (argc == 3 && strcmp(argv[1], "mine") == 0)
        return mine(argv[2]);
    if (argc == 2 && strcmp(argv[1], "version") == 0) {
        puts("toynode " TOYNODE_VERSION);
        return 0;
    }
    return usage();
}

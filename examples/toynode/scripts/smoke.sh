#!/bin/sh
# Smoke test: replay the committed fixture and compare with the expected JSON,
# then check that a tampered chain is rejected with the right line number.
set -u
TOYNODE=${1:-build/toynode}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FIX=$ROOT/fixtures

got=$("$TOYNODE" replay "$FIX/chain-100.txt") || { echo "smoke: replay failed" >&2; exit 1; }
want=$(cat "$FIX/expected-100.json")
if [ "$got" != "$want" ]; then
    echo "smoke: replay output mismatch" >&2
    echo "  got:  $got" >&2
    echo "  want: $want" >&2
    exit 1
fi

tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
# Forge block 50's payload (line 51); block 51 (line 52) must then fail to link.
sed '51s/block-50$/block-5O/' "$FIX/chain-100.txt" > "$tmp"
if err=$("$TOYNODE" replay "$tmp" 2>&1 >/dev/null); then
    echo "smoke: tampered chain was accepted" >&2
    exit 1
fi
case $err in
    *"line 52:"*) ;;
    *) echo "smoke: unexpected error for tampered chain: $err" >&2; exit 1 ;;
esac
echo "smoke: ok ($got)"

#!/usr/bin/env bash
# scripts/checksrc.sh — source rules that review should not have to police (after curl's
# checksrc): banned functions, raw heap calls outside core/alloc.c, the file-top comment.
# Exceptions are counted inline: a line containing "checksrc: allow" is skipped.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
fail=0
files=$(ls src/*/*.c src/*/*.h tools/*/*.c tools/*/*.h 2>/dev/null)
banned='\b(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|atoi|atol|atoll|gets|sscanf|localtime|gmtime|strerror|asctime|ctime)[[:space:]]*\('
if out=$(grep -nE "$banned" $files | grep -v 'checksrc: allow' | grep -vE '^[^:]+:[0-9]+:\s*(/\*|\*)'); then
  echo "banned functions (use snprintf, gw_buf, strtoll, gmtime_r, gw_strerror ...):"; echo "$out"; fail=1
fi
heap='(^|[^_a-zA-Z0-9])(malloc|calloc|realloc|free)[[:space:]]*\('
if out=$(grep -nE "$heap" $files | grep -v '^src/core/alloc.c' | grep -v 'checksrc: allow' | grep -vE '^[^:]+:[0-9]+:\s*(/\*|\*)'); then
  echo "raw heap calls outside src/core/alloc.c (use gw_xmalloc/gw_trymalloc/gw_free):"; echo "$out"; fail=1
fi
for f in $files; do
  head -1 "$f" | grep -q '^/\*' || { echo "$f: missing the file-top comment"; fail=1; }
done
[ $fail -eq 0 ] && echo "checksrc: $(echo $files | wc -w) files clean"
exit $fail

#!/usr/bin/env bash
# scripts/checksrc.sh — source rules that review should not have to police (after curl's
# checksrc): banned functions, raw heap calls outside core/alloc.c, the file-top comment, and
# lines of at most 100 characters (Unicode characters, not bytes: a box-drawing character counts
# as one) in the C files of src/ and tests/, except src/schema/schema_meta.c (embedded metaschema
# tables). Exceptions are counted inline: a line containing "checksrc: allow" is skipped.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO"
fail=0
files=$(ls src/*/*.c src/*/*.h src/*/*/*.c src/*/*/*.h tools/*/*.c tools/*/*.h 2>/dev/null)
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
mapfile -t wide < <({ ls src/*/*.c src/*/*.h src/*/*/*.c src/*/*/*.h; find tests -name '*.c' -not -path '*/node_modules/*'; } 2>/dev/null |
  grep -vx 'src/schema/schema_meta.c' | sort)
width='import sys
for f in sys.argv[1:]:
    with open(f, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if len(line) > 100 and "checksrc: allow" not in line:
                print(f"{f}:{n}: {len(line)} characters")'
if ! command -v python3 >/dev/null; then
  echo "the line-length rule needs python3"; fail=1
elif ! out=$(python3 -c "$width" "${wide[@]}"); then
  echo "the line-length rule failed to run"; fail=1
elif [ -n "$out" ]; then
  echo "lines over 100 characters (rewrap the comment, break the line, split the string literal):"; echo "$out"; fail=1
fi
[ $fail -eq 0 ] && echo "checksrc: $(echo $files | wc -w) files clean, ${#wide[@]} within 100 columns"
exit $fail

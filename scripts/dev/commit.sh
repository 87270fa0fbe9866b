#!/usr/bin/env bash
# scripts/dev/commit.sh "message" PATH...
# Commits exactly the given paths (new, changed or deleted files under them), retrying while
# another commit in the same working tree holds the git index lock. Used when several people
# (or helper sessions) work in one tree: nobody sweeps up somebody else's files.
set -u
msg=$1; shift
[ $# -gt 0 ] || { echo "usage: $0 MESSAGE PATH..." >&2; exit 2; }
for i in $(seq 1 60); do
  if git add -A -- "$@" 2>/tmp/commit-add.$$ && git commit -q -m "$msg" -- "$@" 2>/tmp/commit.$$; then
    rm -f /tmp/commit.$$ /tmp/commit-add.$$; git log -1 --format='committed %h %s'; exit 0
  fi
  if grep -q 'index.lock' /tmp/commit.$$ /tmp/commit-add.$$ 2>/dev/null; then sleep 1; continue; fi
  if grep -q 'nothing' /tmp/commit.$$ 2>/dev/null || grep -q 'no changes added' /tmp/commit.$$ 2>/dev/null; then
    echo "nothing to commit under $*"; rm -f /tmp/commit.$$ /tmp/commit-add.$$; exit 0; fi
  cat /tmp/commit.$$ /tmp/commit-add.$$ >&2; rm -f /tmp/commit.$$ /tmp/commit-add.$$; exit 1
done
echo "gave up: git index stayed locked" >&2; exit 1

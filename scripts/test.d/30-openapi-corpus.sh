#!/usr/bin/env bash
# scripts/test.d/30-openapi-corpus.sh
# Imports every spec of the shared OpenAPI corpus (through the corpus test binary, which also
# checks names, root objects and $defs references) and validates every produced inputSchema and
# outputSchema against the JSON Schema 2020-12 meta-schema with Python's jsonschema (Debian
# package python3-jsonschema), which has no C equivalent here. Skips when the corpus is absent.
set -euo pipefail
corpus=${GW_OPENAPI_CORPUS:-$REPO/build/test-data/openapi}
if [ ! -d "$corpus" ]; then
  echo "OpenAPI corpus $corpus absent: skipped"
  exit 0
fi
bin="$BUILD_DIR/test_openapi_corpus"
[ -x "$bin" ] || { echo "missing $bin (build the test_openapi_corpus target)" >&2; exit 1; }
python3 -c 'import jsonschema.validators; jsonschema.validators.Draft202012Validator' 2>/dev/null ||
  { echo "python3-jsonschema (>= 4.0) is required: apt-get install python3-jsonschema" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
GW_BINARY_DIR="$out" GW_OPENAPI_CORPUS="$corpus" "$bin" >"$out/log" 2>&1 ||
  { cat "$out/log"; exit 1; }
python3 - "$out/openapi-corpus-tools.json" <<'PY'
import json, sys
from jsonschema.validators import Draft202012Validator
specs = json.load(open(sys.argv[1]))
tools = bad = 0
for spec, items in specs.items():
    for t in items:
        tools += 1
        for key in ("inputSchema", "outputSchema"):
            s = t.get(key)
            if s is None:
                continue
            try:
                Draft202012Validator.check_schema(s)
            except Exception as e:  # SchemaError: report and count
                bad += 1
                if bad <= 20:
                    print(f"{spec} {t['name']} {key}: {str(e).splitlines()[0]}")
print(f"{tools} tools from {len(specs)} specs checked against the 2020-12 meta-schema: "
      f"{bad} invalid schemas")
sys.exit(1 if bad or tools == 0 else 0)
PY

#!/usr/bin/env bash
# deploy/ci/verify-images.sh REGISTRY REVISION — refuses to deploy images that ci.yml did not
# sign: cosign verifies the keyless signature (GitHub OIDC identity of this repository's ci.yml
# on main) and the SPDX SBOM attestation of each image.
set -euo pipefail
REG=${1:?registry}; REV=${2:?revision}
IDENTITY=${COSIGN_IDENTITY_REGEXP:-^https://github.com/.+/.github/workflows/ci.yml@refs/heads/main$}
for img in mcpgw mock-apim redis-tls mcp-backup; do
  ref="$REG/msil/$img:$REV"
  cosign verify --certificate-identity-regexp "$IDENTITY" \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com "$ref" >/dev/null
  cosign verify-attestation --type spdxjson --certificate-identity-regexp "$IDENTITY" \
    --certificate-oidc-issuer https://token.actions.githubusercontent.com "$ref" >/dev/null
  echo "verified $ref"
done

#!/usr/bin/env bash
# scripts/test.d/76-deploy-images.sh — builds the container images from Debian packages
# (deploy/images/build.sh: mmdebstrap build stage, release build, runtime file systems, buildah
# images) and checks them (tests/deploy/image-check.sh: file system, library closure, SBOM,
# image config, the booking journey run from the read-only image file systems with chroot).
# First run on a clean machine ~3.5 min (2.5 min of it the Debian build stage, then cached in
# build/images/builder-*); later runs rebuild only what changed (~10–70 s).
# Skips (counted) when not root: chroot and mount namespaces need it.
# Env: REPO (from scripts/test.sh).
set -euo pipefail
REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ "$(id -u)" -ne 0 ]; then echo "images: skipped (needs root for chroot and mounts)"; echo "0 passed, 0 failed, 1 skipped"; exit 0; fi
timeout 480 "$REPO/deploy/images/build.sh"
timeout 120 bash "$REPO/tests/deploy/image-check.sh"

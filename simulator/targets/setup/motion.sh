#!/usr/bin/env bash
# motion 4.5 for the load tests on Debian 12: installed if missing, never started here (tests
# and the lab run `motion -n -c <their motion.conf>` with the webcontrol on localhost).
# Idempotent; needs root only to install. Prints motion's version.
set -euo pipefail
log() { echo "motion setup: $*" >&2; }
die() {
  log "error: $*"
  exit 1
}
if ! command -v motion >/dev/null || ! command -v ffprobe >/dev/null; then
  [[ $EUID -eq 0 ]] || die "motion or ffprobe is missing and installing them needs root"
  log "installing motion ffmpeg (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  apt-get install -y -qq motion ffmpeg >/dev/null || die "apt-get install motion ffmpeg failed"
fi
# Debian's package does not start a daemon by default; one started by hand would hold the
# default ports (8080, 8081), which the tests do not use anyway.
version=$( (motion -h 2>&1 || true) | sed -n 's/^motion Version \([^,]*\),.*/\1/p' | head -n 1)
[[ $version == 4.* ]] || die "motion version ${version:-unknown}: expected 4.x"
echo "$version"

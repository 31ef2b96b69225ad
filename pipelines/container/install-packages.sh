#!/bin/sh
# Install scgrn's system packages with apt: `build` for compiling the tools, `runtime` for
# running them (the Dockerfile's two stages; also usable on any Debian or Ubuntu host).
#   pipelines/container/install-packages.sh build|runtime [--print]
# --print lists the packages instead of installing them.
set -eu
here=$(dirname "$0")
case "${1:-}" in
  build) col=1 ;;
  runtime) col=2 ;;
  *) echo "usage: $0 build|runtime [--print]" >&2; exit 64 ;;
esac
packages=$(awk -v c="$col" '!/^#/ && NF >= 2 && $c != "-" { print $c }' "$here/apt-packages.tsv")
# Nextflow reads task metrics with ps: the run-time image needs procps.
[ "$1" = runtime ] && packages="$packages procps"
if [ "${2:-}" = --print ]; then
  echo $packages
  exit 0
fi
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $packages
$SUDO rm -rf /var/lib/apt/lists/*

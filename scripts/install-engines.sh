#!/bin/sh
# install-engines.sh: the engines the engine suite drives (tests/engines), from Debian's archive,
# installed only when missing. Run as root. Their services are not started: the suite starts
# private daemons itself, and --no-services keeps the packages' own start-up scripts from
# starting system-wide ones during the install.
set -eu
exec "$(dirname "$0")/ensure-packages.sh" --no-services podman conmon netavark catatonit containerd docker.io \
  runc iptables curl

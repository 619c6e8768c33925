#!/bin/sh
# ensure-packages.sh [--no-services] PACKAGE...: installs, from Debian's archive, those of the
# packages that are not installed yet; nothing when all are. Installing needs root: without it,
# the missing ones are named and the exit status is 1. --no-services keeps the packages' own
# start-up scripts from starting system-wide daemons during the install (a temporary
# policy-rc.d, removed afterwards). Every install script and benchmark of the project uses this.
set -eu
services=yes
if [ "${1:-}" = --no-services ]; then
  services=no
  shift
fi
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ "$services" = no ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=yes
fi
cleanup() { [ "$made_policy" = no ] || rm -f "$policy"; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null

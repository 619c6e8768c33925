#!/bin/sh
# install-engines.sh: the engines the engine suite drives (tests/engines), from Debian's archive,
# installed only when missing. Run as root. Their services are not started: the suite starts
# private daemons itself, and a policy-rc.d keeps the packages' own start-up scripts from
# starting system-wide ones during the install.
set -eu
PKGS="podman conmon netavark catatonit containerd docker.io runc iptables curl"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-engines.sh: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
policy=/usr/sbin/policy-rc.d
made_policy=no
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  made_policy=yes
fi
cleanup() { [ "$made_policy" = no ] || rm -f "$policy"; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing

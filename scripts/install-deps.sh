#!/bin/sh
# install-deps.sh: the Debian 12 packages nano-sandbox needs to build and test, installed only
# when missing. Run as root. Nothing but Debian's archive is used.
set -eu
PKGS="g++ cmake make binutils libc6-dev nlohmann-json3-dev libgtest-dev libcap-dev libseccomp-dev busybox-static bats jq procps strace uidmap containernetworking-plugins iptables iproute2 curl"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps.sh: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing

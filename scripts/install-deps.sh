#!/bin/sh
# install-deps.sh: the Debian 12 packages nano-sandbox needs to build and test, installed only
# when missing. Run as root. Nothing but Debian's archive is used.
set -eu
exec "$(dirname "$0")/ensure-packages.sh" g++ cmake make binutils lld libc6-dev nlohmann-json3-dev libgtest-dev \
  libcap-dev libseccomp-dev busybox-static bats jq procps strace uidmap containernetworking-plugins iptables \
  iproute2 curl clang-16 libclang-rt-16-dev

#!/bin/sh
# make-oci-archive.sh ROOTFS_TAR OUT_TAR NAME: wraps a rootfs tarball into a one-layer OCI image
# archive (oci-layout, index.json, blobs/sha256) that `ctr images import` takes, named NAME
# (e.g. localhost/busybox:latest), with /bin/sh as its command.
set -eu
rootfs_tar=${1:?usage: make-oci-archive.sh ROOTFS_TAR OUT_TAR NAME}
out=${2:?usage: make-oci-archive.sh ROOTFS_TAR OUT_TAR NAME}
name=${3:?usage: make-oci-archive.sh ROOTFS_TAR OUT_TAR NAME}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
blobs="$dir/blobs/sha256"
mkdir -p "$blobs"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# add FILE: stores FILE as a blob, prints its digest.
add() {
  d=$(sha "$1")
  mv "$1" "$blobs/$d"
  echo "$d"
}

diff_id=$(sha "$rootfs_tar")
gzip -nc "$rootfs_tar" >"$dir/layer"
layer_size=$(size "$dir/layer")
layer=$(add "$dir/layer")

printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$diff_id" >"$dir/config"
config_size=$(size "$dir/config")
config=$(add "$dir/config")

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" >"$dir/manifest"
manifest_size=$(size "$dir/manifest")
manifest=$(add "$dir/manifest")

printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
  "$manifest" "$manifest_size" "$name" "${name##*:}" >"$dir/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
tar -C "$dir" -cf "$out" oci-layout index.json blobs

#!/bin/sh
# Fails when a layer includes a header from a layer above it.
# Allowed: each layer may include itself and the layers listed after it.
src=${1:-src}
fail=0
check() { # layer forbidden-layers...
  layer=$1; shift
  for bad in "$@"; do
    hits=$(grep -rlE "#include *\"$bad/" "$src/$layer" 2>/dev/null)
    if [ -n "$hits" ]; then
      echo "layering violation: $layer includes $bad: $hits"
      fail=1
    fi
  done
}
check base virtio vhost_user fuse fs device sandbox daemon
check virtio vhost_user fuse fs device sandbox daemon
check vhost_user fuse fs device sandbox daemon
check fuse virtio vhost_user fs device sandbox daemon
check fs virtio vhost_user device sandbox daemon
check device fs sandbox daemon
check sandbox virtio vhost_user fuse fs device daemon
[ $fail = 0 ] && echo "layering ok"
exit $fail

#!/usr/bin/env bash
# Shared, cached Debian root file systems for the container and boot tests. Source it, then
#   tar=$(rootfs_tar NAME SUITE INCLUDE [CHROOT-COMMAND])
# prints the path of a tarball of `debootstrap --variant=minbase --include=INCLUDE SUITE`, with
# CHROOT-COMMAND (a shell command) run inside it afterwards. It is built once and cached under
# target/rootfs/ (or $MII_ROOTFS_CACHE; keyed by its recipe, so a changed recipe builds anew); concurrent callers wait
# for one build (flock). debootstrap's log is target/rootfs/NAME-KEY.log. Returns 1 on failure.
# Extract with: tar -C DIR -xf "$tar" (as root: owners and modes are kept).

rootfs_tar() {
  local name=$1 suite=$2 include=$3 post=${4:-}
  local repo dir key tar
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  dir=${MII_ROOTFS_CACHE:-$repo/target/rootfs}
  mkdir -p "$dir"
  key=$(printf '%s\n' "$suite" "$include" "$post" | sha256sum | cut -c1-12)
  tar=$dir/$name-$key.tar
  (
    flock 9
    [ -s "$tar" ] && exit 0
    local tree=$dir/$name-$key.tree
    rm -rf "$tree"
    if ! debootstrap --variant=minbase --include="$include" "$suite" "$tree" \
        http://deb.debian.org/debian > "$dir/$name-$key.log" 2>&1; then
      tail -n 20 "$dir/$name-$key.log" >&2
      exit 1
    fi
    if [ -n "$post" ]; then
      # Inside the new root: its own package manager, no services started.
      printf '#!/bin/sh\nexit 101\n' > "$tree/usr/sbin/policy-rc.d"
      chmod +x "$tree/usr/sbin/policy-rc.d"
      mount -t proc proc "$tree/proc"
      local rc=0
      DEBIAN_FRONTEND=noninteractive chroot "$tree" /bin/sh -c "$post" >> "$dir/$name-$key.log" 2>&1 || rc=$?
      umount "$tree/proc"
      rm -f "$tree/usr/sbin/policy-rc.d"
      [ "$rc" -eq 0 ] || { tail -n 20 "$dir/$name-$key.log" >&2; exit 1; }
    fi
    rm -f "$tree/etc/machine-id.tmp"
    tar -C "$tree" -cf "$tar.part" . && mv "$tar.part" "$tar"
    rm -rf "$tree"
  ) 9> "$dir/$name.lock" || return 1
  echo "$tar"
}

# The trees the tests use, by name: one recipe each, so that every test sharing a tree shares
# its cache, and .ci/run can build them all at once before the tests (rootfs_prefetch).
# A recipe is SUITE INCLUDE [CHROOT-COMMAND].
rootfs_recipe() {
  case $1 in
    trixie-systemd) printf '%s\n' trixie systemd-sysv,udev ;;
    bookworm-systemd) printf '%s\n' bookworm systemd-sysv,udev ;;
    trixie-openrc) printf '%s\n' trixie sysvinit-core,dbus "apt-get install -y openrc" ;;
    trixie-selinux)
      printf '%s\n' trixie systemd-sysv,udev,selinux-basics,selinux-policy-default,auditd,policycoreutils,attr ;;
    trixie-kernel) printf '%s\n' trixie systemd-sysv,udev,initramfs-tools,linux-image-cloud-amd64,zstd ;;
    *) echo "rootfs_recipe: no tree named $1" >&2; return 1 ;;
  esac
}

# The tarball of the tree NAME (see rootfs_recipe), built once.
rootfs() {
  local recipe
  mapfile -t recipe < <(rootfs_recipe "$1") || return 1
  [ "${#recipe[@]}" -ge 2 ] || return 1
  rootfs_tar "$1" "${recipe[@]}"
}

# Build every named tree at once, in the background of whoever calls it (.ci/run): debootstrap
# waits on the network and the disk while cargo builds. Each build takes its tree's lock, so a
# test asking for a tree meanwhile waits for it instead of building it again.
rootfs_prefetch() {
  local name
  for name in trixie-systemd bookworm-systemd trixie-openrc trixie-selinux trixie-kernel; do
    rootfs "$name" >/dev/null &
  done
  wait
}

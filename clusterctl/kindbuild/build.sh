#!/usr/bin/env bash
# Build, from pinned sources only, the pieces of an offline kind node image
# for testing k8slab's kind provider on a machine with no container
# registry. Real learners keep kind's published node image.
#
# Usage: build.sh [OUTDIR] [STAGE...]
#   OUTDIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/k8slab/kind
#   STAGE  rootfs | runtime (default: all, in that order)
#
# Each stage is cached by a stamp of its inputs in OUTDIR/.stamp-<stage>, so
# a second run is instant:
#   rootfs   a Debian bookworm rootfs with systemd and the packages kind's
#            base image installs (images/base/Dockerfile of the pinned kind
#            module), made with debootstrap from Debian's mirror, plus kind's
#            own node scripts and systemd units from that module
#   runtime  containerd, ctr and its runc shim, runc, crictl and the CNI
#            plugins kind's base image carries, at the versions that
#            Dockerfile pins, built from the Go module proxy
# Not built yet (see the report in issue #20): kubelet/kubeadm/kubectl,
# the control-plane images, etcd, CoreDNS, pause, kindnetd and
# local-path-provisioner images, and the assembly into a node image.
#
# Environment: GO (go), NICE ("nice -n 10"), GOFLAGS_EXTRA ("-p 1").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GO="${GO:-go}"
NICE="${NICE:-nice -n 10}"
GOFLAGS_EXTRA="${GOFLAGS_EXTRA:--p 1}"
out="${1:-${XDG_CACHE_HOME:-${HOME}/.cache}/k8slab/kind}"
shift || true
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(rootfs runtime)

# Pinned: the kind module k8slab uses, and the versions its base image pins.
KIND_VERSION=v0.33.0
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CONTAINERD_VERSION=v2.3.4
RUNC_VERSION=v1.4.3
CRICTL_VERSION=v1.36.0
CNI_PLUGINS_VERSION=v1.9.1
PACKAGES=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,e2fsprogs,bash,ca-certificates,curl,jq,procps

mkdir -p "${out}"
log() { echo "kindbuild: $*"; }

# kind's module from the module cache (fetched through the proxy if absent).
kind_dir() {
  local d
  d="$("${GO}" env GOMODCACHE)/sigs.k8s.io/kind@${KIND_VERSION}"
  if [[ ! -d "${d}" ]]; then
    (cd "$(mktemp -d)" && "${GO}" mod download -json "sigs.k8s.io/kind@${KIND_VERSION}" >/dev/null)
  fi
  echo "${d}"
}

# stamp NAME INPUTS... : succeeds when the stage's recorded inputs match.
fresh() {
  local name="$1"; shift
  [[ "${FORCE:-0}" != 1 ]] && grep -qxF "inputs=$*" "${out}/.stamp-${name}" 2>/dev/null
}
record() {
  local name="$1" secs="$2"; shift 2
  printf 'inputs=%s\nbuilt_at=%s\nseconds=%s\n' "$*" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${secs}" >"${out}/.stamp-${name}"
}

stage_rootfs() {
  local inputs="${DEBIAN_SUITE} ${PACKAGES} kind=${KIND_VERSION} recipe=$(declare -f stage_rootfs | sha256sum | cut -c1-16)"
  if fresh rootfs "${inputs}"; then log "rootfs up to date"; return; fi
  command -v debootstrap >/dev/null || { echo "kindbuild: debootstrap is missing: apt-get install debootstrap" >&2; exit 1; }
  local start=${SECONDS} root="${out}/rootfs" tmp="${out}/rootfs.tmp"
  rm -rf "${tmp}"
  log "debootstrap ${DEBIAN_SUITE} into ${tmp} (about 7 minutes)"
  ${NICE} debootstrap --variant=minbase --include="${PACKAGES}" "${DEBIAN_SUITE}" "${tmp}" "${DEBIAN_MIRROR}"
  # What kind's base Dockerfile does after installing its packages.
  local kd files
  kd="$(kind_dir)"; files="${kd}/images/base/files"
  install -d "${tmp}/kind/bin" "${tmp}/etc/containerd" "${tmp}/etc/systemd/system/kubelet.service.d" "${tmp}/etc/kubernetes/manifests" "${tmp}/LICENSES"
  install -m 0755 "${files}"/usr/local/bin/* "${tmp}/usr/local/bin/"
  install -m 0644 "${files}"/kind/README.txt "${tmp}/kind/"
  install -m 0755 "${files}"/kind/bin/* "${tmp}/kind/bin/"
  install -m 0644 "${files}"/etc/crictl.yaml "${tmp}/etc/"
  install -m 0644 "${files}"/etc/containerd/* "${tmp}/etc/containerd/"
  install -d "${tmp}/etc/default" "${tmp}/etc/sysctl.d"
  install -m 0644 "${files}"/etc/default/* "${tmp}/etc/default/"
  install -m 0644 "${files}"/etc/sysctl.d/* "${tmp}/etc/sysctl.d/"
  install -m 0644 "${files}"/etc/systemd/system/*.service "${files}"/etc/systemd/system/*.slice "${tmp}/etc/systemd/system/"
  install -m 0644 "${files}"/etc/systemd/system/kubelet.service.d/* "${tmp}/etc/systemd/system/kubelet.service.d/"
  (
    cd "${tmp}"
    find lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
    rm -f lib/systemd/system/multi-user.target.wants/* etc/systemd/system/*.wants/* \
      lib/systemd/system/local-fs.target.wants/* lib/systemd/system/sockets.target.wants/*udev* \
      lib/systemd/system/sockets.target.wants/*initctl* lib/systemd/system/basic.target.wants/*
    echo "ReadKMsg=no" >>etc/systemd/journald.conf
    ln -sf /usr/lib/systemd/systemd sbin/init
  )
  chroot "${tmp}" systemctl enable kubelet.service containerd.service undo-mount-hacks.service
  chroot "${tmp}" systemctl mask systemd-binfmt.service
  rm -rf "${tmp}/var/cache/apt/archives"/*.deb "${root}"
  mv "${tmp}" "${root}"
  record rootfs $((SECONDS - start)) "${inputs}"
  log "rootfs done in $((SECONDS - start))s"
}

# goinstall DIR MODULE@VERSION PKG... : go install PKGs of one module into DIR.
goinstall() {
  local dir="$1" modver="$2"; shift 2
  local p
  for p in "$@"; do
    GOBIN="${dir}" ${NICE} "${GO}" install -trimpath ${GOFLAGS_EXTRA} -ldflags "-s -w" "${p}@${modver#*@}"
  done
}

stage_runtime() {
  local inputs="containerd=${CONTAINERD_VERSION} runc=${RUNC_VERSION} crictl=${CRICTL_VERSION} cni=${CNI_PLUGINS_VERSION} go=$("${GO}" env GOVERSION)"
  if fresh runtime "${inputs}"; then log "runtime up to date"; return; fi
  local start=${SECONDS} bin="${out}/runtime.tmp"
  rm -rf "${bin}"; mkdir -p "${bin}/cni"
  log "building containerd ${CONTAINERD_VERSION}, runc ${RUNC_VERSION}, crictl ${CRICTL_VERSION}, CNI plugins ${CNI_PLUGINS_VERSION}"
  CGO_ENABLED=0 goinstall "${bin}" "x@${CONTAINERD_VERSION}" \
    github.com/containerd/containerd/v2/cmd/containerd github.com/containerd/containerd/v2/cmd/ctr \
    github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2
  # runc needs cgo (nsenter); without libseccomp-dev it builds without seccomp.
  CGO_ENABLED=1 GOFLAGS="${GOFLAGS:-} -tags=" goinstall "${bin}" "x@${RUNC_VERSION}" github.com/opencontainers/runc
  CGO_ENABLED=0 goinstall "${bin}" "x@${CRICTL_VERSION}" sigs.k8s.io/cri-tools/cmd/crictl
  CGO_ENABLED=0 goinstall "${bin}/cni" "x@${CNI_PLUGINS_VERSION}" \
    github.com/containernetworking/plugins/plugins/ipam/host-local github.com/containernetworking/plugins/plugins/main/loopback \
    github.com/containernetworking/plugins/plugins/main/ptp github.com/containernetworking/plugins/plugins/meta/portmap
  rm -rf "${out}/runtime"; mv "${bin}" "${out}/runtime"
  record runtime $((SECONDS - start)) "${inputs}"
  log "runtime done in $((SECONDS - start))s"
}

for s in "${stages[@]}"; do
  case "${s}" in
  rootfs) stage_rootfs ;;
  runtime) stage_runtime ;;
  *) echo "kindbuild: unknown stage ${s}: use rootfs or runtime" >&2; exit 2 ;;
  esac
done

#!/usr/bin/env bash
# Build, from pinned sources only, an offline kind node image for testing
# k8slab's kind provider on a machine with no container registry. Real
# learners keep kind's published node image.
#
# Usage: build.sh [OUTDIR] [STAGE...]
#   OUTDIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/k8slab/kind
#   STAGE  rootfs | runtime | kube | images | node | workloads (default: all)
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
#   kube     kubelet, kubeadm, kubectl and kube-proxy v1.37.2 built in kube/
#            (the simulator's module graph), next to the simulator's
#            control plane and etcd (SIM_BIN)
#   images   OCI archives of the images kubeadm and kind run in a node,
#            named as upstream names them (see stage_images)
#   node     the rootfs with all of the above, the images in containerd's
#            store, imported into Podman as NODE_IMAGE
#   workloads  stand-ins for the course's images (images.yaml), as OCI
#            archives in OUTDIR/workloads for `kind load image-archive`
#
# Environment: GO (go), NICE ("nice -n 10"), GOFLAGS_EXTRA ("-p 1" on a
# busy machine, else none: Go's default, a build step per core),
# SIM_BIN, NODE_IMAGE (localhost/k8slab/kind-node:v1.37.2), PODMAN, FORCE=1.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GO="${GO:-go}"
NICE="${NICE:-nice -n 10}"
# -p 1 keeps these builds from crowding a machine that is busy already
# (the load average at least its number of cores); an idle one gets all of
# its cores, as the simulator's build does.
if [[ -z "${GOFLAGS_EXTRA+set}" ]]; then
  GOFLAGS_EXTRA="-p 1"
  awk -v n="$(nproc)" '{ exit !($1 < n) }' /proc/loadavg 2>/dev/null && GOFLAGS_EXTRA=""
fi
out="${1:-${XDG_CACHE_HOME:-${HOME}/.cache}/k8slab/kind}"
shift || true
stages=("$@")
[[ ${#stages[@]} -gt 0 ]] || stages=(rootfs runtime kube images node workloads)

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

# The Kubernetes node binaries: kubelet, kubeadm and kubectl go into the
# node's /usr/bin, kube-proxy into its image. They are built in kube/, a
# module whose graph is the simulator's (clusterctl/simbuild) plus these
# commands, so the packages both share come from the Go build cache. The
# control plane (kube-apiserver, -controller-manager, -scheduler) and etcd
# are the simulator's binaries, copied from SIM_BIN, not built again.
SIM_BIN="${SIM_BIN:-${XDG_CACHE_HOME:-${HOME}/.cache}/k8slab/sim/v1.37.2}"
KUBE_BINS=(kubelet kubeadm kubectl kube-proxy)
CONTROL_PLANE_BINS=(kube-apiserver kube-controller-manager kube-scheduler etcd)

stage_kube() {
  local inputs="kube=$(cat "${here}/kube/go.mod" "${here}/kube/go.sum" | sha256sum | cut -c1-16) sim=$(sha256sum "${SIM_BIN}/.simbuild-stamp" 2>/dev/null | cut -c1-16) go=$("${GO}" env GOVERSION)"
  if fresh kube "${inputs}" && [[ -x "${out}/kube/kubelet" ]]; then log "kube up to date"; return; fi
  local b
  for b in "${CONTROL_PLANE_BINS[@]}"; do
    [[ -x "${SIM_BIN}/${b}" ]] || { echo "kindbuild: ${SIM_BIN}/${b} is missing: run \`make sim\` first (the control plane is the simulator's)" >&2; exit 1; }
  done
  local start=${SECONDS} bin="${out}/kube.tmp" version date major minor
  rm -rf "${bin}"; mkdir -p "${bin}"
  version="$(cd "${here}/kube" && "${GO}" list -m -f '{{.Version}}' k8s.io/kubernetes)"
  date="$(cd "${here}/kube" && "${GO}" list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)"
  [[ "${version}" =~ ^v([0-9]+)\.([0-9]+)\. ]] || { echo "kindbuild: cannot parse kubernetes version ${version}" >&2; exit 1; }
  major="${BASH_REMATCH[1]}"; minor="${BASH_REMATCH[2]}"
  # The version variables hack/lib/version.sh sets, as the simulator's build
  # does: kubeadm picks its image tags from its own version.
  local ldflags=(-s -w) pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=("-X ${pkg}.gitVersion=${version}" "-X ${pkg}.gitMajor=${major}" "-X ${pkg}.gitMinor=${minor}"
      "-X ${pkg}.gitTreeState=clean" "-X ${pkg}.gitCommit=" "-X ${pkg}.buildDate=${date}")
  done
  local pkgs=()
  for b in "${KUBE_BINS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/${b}"); done
  log "building ${KUBE_BINS[*]} ${version} (the control plane and etcd come from ${SIM_BIN})"
  (cd "${here}/kube" && CGO_ENABLED=0 ${NICE} "${GO}" build -trimpath -buildvcs=false ${GOFLAGS_EXTRA} -ldflags "${ldflags[*]}" -o "${bin}/" "${pkgs[@]}")
  for b in "${CONTROL_PLANE_BINS[@]}"; do cp "${SIM_BIN}/${b}" "${bin}/"; done
  echo "${version}" >"${bin}/version"
  rm -rf "${out}/kube"; mv "${bin}" "${out}/kube"
  record kube $((SECONDS - start)) "${inputs}"
  log "kube done in $((SECONDS - start))s"
}

# oci_archive OUT NAMES ROOT CONFIG_JSON : write ROOT as a one-layer OCI
# image archive named each of NAMES (separated by spaces), CONFIG_JSON its runtime settings (Entrypoint,
# Cmd, Env, ExposedPorts...) over a default PATH, the format `ctr images import` (and so kind's
# image loading) reads. Uncompressed and with fixed times and owners: the
# archive only travels to the node's content store, and the same inputs give
# the same digest.
oci_archive() {
  local outf="$1" name="$2" root="$3" settings="$4"
  local d layer cfg man size_l size_c size_m dl dc dm
  d="$(mktemp -d "${out}/.oci.XXXXXX")"
  mkdir -p "${d}/blobs/sha256"
  layer="${d}/layer.tar"
  tar -C "${root}" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "${layer}" .
  dl="$(sha256sum "${layer}" | cut -d' ' -f1)"; size_l=$(stat -c %s "${layer}")
  mv "${layer}" "${d}/blobs/sha256/${dl}"
  cfg="$(jq -cn --arg diff "sha256:${dl}" --argjson set "${settings}" '{
    architecture: "amd64", os: "linux", created: "1970-01-01T00:00:00Z",
    config: ({Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], WorkingDir: "/"} + $set),
    rootfs: {type: "layers", diff_ids: [$diff]}}')"
  dc="$(printf '%s' "${cfg}" | sha256sum | cut -d' ' -f1)"; size_c=${#cfg}
  printf '%s' "${cfg}" >"${d}/blobs/sha256/${dc}"
  man="$(jq -cn --arg c "sha256:${dc}" --argjson cs "${size_c}" --arg l "sha256:${dl}" --argjson ls "${size_l}" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
    layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}')"
  dm="$(printf '%s' "${man}" | sha256sum | cut -d' ' -f1)"; size_m=${#man}
  printf '%s' "${man}" >"${d}/blobs/sha256/${dm}"
  jq -cn --arg m "sha256:${dm}" --argjson ms "${size_m}" --arg names "${name}" '{
    schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [$names | split(" ")[] | select(. != "") | {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
      platform: {architecture: "amd64", os: "linux"},
      annotations: {"io.containerd.image.name": ., "org.opencontainers.image.ref.name": sub(".*:"; "")}}]}' >"${d}/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"${d}/oci-layout"
  tar -C "${d}" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "${outf}" oci-layout index.json blobs
  rm -rf "${d}"
}

# copy_from_rootfs DEST PATH... : copy PATHs of the node rootfs, and the
# shared libraries they load, into DEST, keeping the rootfs's merged-/usr
# layout (what kind's stage-binary-and-deps.sh does for its images).
copy_from_rootfs() {
  local dest="$1"; shift
  local rootfs="${out}/rootfs" l p
  for l in bin sbin lib lib64; do
    [[ -L "${rootfs}/${l}" && ! -e "${dest}/${l}" ]] && cp -a "${rootfs}/${l}" "${dest}/"
  done
  # The libraries of a directory's files count too: iptables dlopens its
  # extensions (xtables/libxt_*.so), so ldd of iptables does not name what
  # they load (libxt_statistic.so needs libm: without it every kube-proxy
  # sync failed with "Couldn't load match `statistic'").
  local paths=("$@") objs=() f
  for p in "$@"; do
    if [[ -d "${rootfs}${p}" ]]; then
      while IFS= read -r f; do objs+=("${f#"${rootfs}"}"); done < <(find "${rootfs}${p}" -type f -name '*.so*')
    elif [[ -f "${rootfs}${p}" && -x "${rootfs}${p}" ]]; then
      objs+=("${p}")
    fi
  done
  for p in "${objs[@]}"; do
    mapfile -t -O "${#paths[@]}" paths < <(chroot "${rootfs}" ldd "${p}" 2>/dev/null | grep -o '/[^ ]*' || true)
  done
  mapfile -t paths < <(printf '%s\n' "${paths[@]}" | sort -u)
  # Each path goes to its real directory (/lib is /usr/lib here), as the
  # link it is (libxtables.so.12) and as the file the link names.
  local d real
  for p in "${paths[@]}"; do
    d="$(chroot "${rootfs}" readlink -f "$(dirname "${p}")")"
    real="$(chroot "${rootfs}" readlink -f "${p}")"
    (cd "${rootfs}" && cp -a --parents ".${d}/$(basename "${p}")" "${dest}/")
    [[ "${real}" == "${d}/$(basename "${p}")" ]] || (cd "${rootfs}" && cp -a --parents ".${real}" "${dest}/")
  done
}

# The images kubeadm v1.37.2 and kind v0.33.0 expect inside a node, made
# here because no registry is reachable; each is named as upstream names it
# so nothing is pulled. Static Go binaries on an empty root, except where
# the real image carries Debian tools (iptables for kube-proxy, sh/mkdir/rm
# for local-path's helper), which come from the node rootfs. kindnetd and
# pause are k8slab's stand-ins (images/kindnetd, images/pause), and CoreDNS
# is built with only the plugins kubeadm's Corefile uses (images/coredns).
BUSYBOX_DEB=busybox-static_1.35.0-4+deb12u1+b1_amd64.deb
LOCAL_PATH_PROVISIONER_VERSION=v0.0.30

# ensure_busybox : Debian bookworm's busybox-static, unpacked in OUTDIR/busybox.
ensure_busybox() {
  [[ -x "${out}/busybox/bin/busybox" && -f "${out}/busybox/${BUSYBOX_DEB}" ]] && return
  log "fetching ${BUSYBOX_DEB} from Debian"
  local d
  d="$(mktemp -d "${out}/.deb.XXXXXX")"
  local v="${BUSYBOX_DEB#busybox-static_}"; v="${v%_amd64.deb}"
  (cd "${d}" && apt-get download "busybox-static=1:${v}" >/dev/null)
  rm -rf "${out}/busybox"; dpkg-deb -x "${d}"/busybox-static_*.deb "${out}/busybox"
  touch "${out}/busybox/${BUSYBOX_DEB}"
  rm -rf "${d}"
}

# knp_patched DIR : a copy of kube-network-policies (the version
# images/go.mod requires) in DIR/knp, with images/kindnetd/knpqueue/queue.go
# added to its networkpolicy package and each of its nftables rules queueing
# packets through k8slabQueue, which uses xtables' NFQUEUE target where the
# kernel has no nftables queue expression (queue.go says why); and
# DIR/go.mod, images/go.mod replacing the library with that copy, for `go
# build -modfile` (an -overlay may not replace files of the module cache).
# The library's ten `queue,` rule lines are counted, so a version of it that
# queues otherwise fails here instead of enforcing nothing.
knp_patched() {
  local d="$1" mod pkg n
  mod="$(cd "${here}/images" && "${GO}" list -m -f '{{.Dir}}' sigs.k8s.io/kube-network-policies)"
  rm -rf "${d}"; mkdir -p "${d}/knp"
  cp -r "${mod}/go.mod" "${mod}/pkg" "${d}/knp/"; chmod -R u+w "${d}/knp"
  pkg="${d}/knp/pkg/networkpolicy"
  sed -i 's/^\(\t*\)queue,$/\1k8slabQueue(queue),/' "${pkg}/controller.go"
  n="$(grep -c 'k8slabQueue(queue),$' "${pkg}/controller.go" || true)"
  [[ "${n}" == 10 ]] || { echo "kindbuild: kube-network-policies' controller.go has ${n} queue rules, not the 10 knp_patched knows: read it again" >&2; exit 1; }
  cp "${here}/images/kindnetd/knpqueue/queue.go" "${pkg}/zz_k8slab_queue.go"
  cp "${here}/images/go.sum" "${d}/go.sum"
  { cat "${here}/images/go.mod"; echo "replace sigs.k8s.io/kube-network-policies => ${d}/knp"; } >"${d}/go.mod"
}

stage_images() {
  local kv inputs
  kv="$(cat "${out}/kube/version")"
  # Every Go file of images/ counts, not only each command's main.go:
  # kindnetd is several files and a patch of the library it runs.
  inputs="kube=$(sed -n 's/^inputs=//p' "${out}/.stamp-kube" | sha256sum | cut -c1-16) images=$(cd "${here}/images" && find . -name '*.go' -o -name 'go.mod' -o -name 'go.sum' | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16) lpp=${LOCAL_PATH_PROVISIONER_VERSION} busybox=${BUSYBOX_DEB} recipe=$(declare -f stage_images oci_archive copy_from_rootfs knp_patched | sha256sum | cut -c1-16)"
  if fresh images "${inputs}"; then log "images up to date"; return; fi
  local start=${SECONDS} tmp="${out}/images.tmp" bin="${out}/images.tmp/bin" r
  rm -rf "${tmp}"; mkdir -p "${bin}"
  log "building pause, kindnetd, coredns and local-path-provisioner ${LOCAL_PATH_PROVISIONER_VERSION}"
  (cd "${here}/images" && CGO_ENABLED=0 ${NICE} "${GO}" build -trimpath -buildvcs=false ${GOFLAGS_EXTRA} -ldflags "-s -w" -o "${bin}/" ./pause ./coredns)
  knp_patched "${tmp}/knp"
  (cd "${here}/images" && CGO_ENABLED=0 ${NICE} "${GO}" build -trimpath -buildvcs=false ${GOFLAGS_EXTRA} -ldflags "-s -w" -modfile "${tmp}/knp/go.mod" -o "${bin}/" ./kindnetd)
  CGO_ENABLED=0 goinstall "${bin}" "x@${LOCAL_PATH_PROVISIONER_VERSION}" github.com/rancher/local-path-provisioner
  ensure_busybox
  local bb="${out}/busybox/bin/busybox" img="${tmp}/archives"
  mkdir -p "${img}"
  # newroot NAME : an empty image root with /tmp, /etc/passwd and /etc/group.
  newroot() {
    r="${tmp}/root-$1"; rm -rf "${r}"; mkdir -p "${r}/usr/local/bin" "${r}/tmp" "${r}/etc"
    chmod 1777 "${r}/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"${r}/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"${r}/etc/group"
  }
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    newroot "${b}"; cp "${out}/kube/${b}" "${r}/usr/local/bin/"
    oci_archive "${img}/${b}.tar" "registry.k8s.io/${b}:${kv}" "${r}" "{\"Entrypoint\":[\"/usr/local/bin/${b}\"]}"
  done
  newroot etcd; cp "${out}/kube/etcd" "${r}/usr/local/bin/"
  oci_archive "${img}/etcd.tar" "registry.k8s.io/etcd:$(kube_image_tag etcd)" "${r}" '{"Entrypoint":["/usr/local/bin/etcd"]}'
  newroot pause; cp "${bin}/pause" "${r}/pause"
  oci_archive "${img}/pause.tar" "registry.k8s.io/pause:$(kube_image_tag pause)" "${r}" '{"Entrypoint":["/pause"]}'
  # containerd runs sandboxes from the image its own config names, which
  # kind's config pins apart from kubeadm's: both names must be there.
  local sandbox
  sandbox="$(sed -n 's/^\s*sandbox_image = "\(.*\)"/\1/p' "${out}/rootfs/etc/containerd/config.toml")"
  [[ -n "${sandbox}" ]] && oci_archive "${img}/pause-sandbox.tar" "${sandbox}" "${r}" '{"Entrypoint":["/pause"]}'
  newroot coredns; cp "${bin}/coredns" "${r}/coredns"
  oci_archive "${img}/coredns.tar" "registry.k8s.io/coredns/coredns:$(kube_image_tag coredns)" "${r}" '{"Entrypoint":["/coredns"]}'
  newroot kindnetd; mkdir -p "${r}/bin"; cp "${bin}/kindnetd" "${r}/bin/"
  oci_archive "${img}/kindnetd.tar" "$(kind_image kindnetdImage)" "${r}" '{"Entrypoint":["/bin/kindnetd"]}'
  newroot local-path-provisioner; cp "${bin}/local-path-provisioner" "${r}/usr/local/bin/"
  oci_archive "${img}/local-path-provisioner.tar" "$(kind_image storageProvisionerImage)" "${r}" '{"Entrypoint":["/usr/local/bin/local-path-provisioner"]}'
  # The helper pod runs `sh -c 'mkdir -m 0777 -p ...'` and `rm -rf`.
  newroot local-path-helper; mkdir -p "${r}/bin"; cp "${bb}" "${r}/bin/busybox"
  for b in sh mkdir rm; do ln -s busybox "${r}/bin/${b}"; done
  oci_archive "${img}/local-path-helper.tar" "$(kind_image storageHelperImage)" "${r}" '{"Cmd":["/bin/sh"]}'
  # kube-proxy runs iptables; the wrapper picks legacy or nft as kind's
  # entrypoint (and the real image's iptables-wrapper) does, by which one
  # holds more rules.
  newroot kube-proxy; cp "${out}/kube/kube-proxy" "${r}/usr/local/bin/"
  copy_from_rootfs "${r}" /usr/sbin/xtables-legacy-multi /usr/sbin/xtables-nft-multi /usr/lib/x86_64-linux-gnu/xtables
  mkdir -p "${r}/usr/local/sbin"; cp "${bb}" "${r}/usr/local/sbin/busybox"
  for b in sh grep wc; do ln -s busybox "${r}/usr/local/sbin/${b}"; done
  local t m
  for t in iptables ip6tables; do
    for m in legacy nft; do
      local multi=xtables-${m}-multi
      for b in "" -save -restore; do ln -sf "${multi}" "${r}/usr/sbin/${t}-${m}${b}"; done
    done
    for b in "" -save -restore; do ln -sf iptables-wrapper "${r}/usr/sbin/${t}${b}"; done
  done
  cat >"${r}/usr/sbin/iptables-wrapper" <<'WRAP'
#!/usr/local/sbin/sh
# Pick iptables' legacy or nft back end, by which holds more rules, as
# kubernetes-sigs/iptables-wrappers does; then point the links at it.
legacy=$( (iptables-legacy-save; ip6tables-legacy-save) 2>/dev/null | grep -c '^-')
nft=$( (iptables-nft-save; ip6tables-nft-save) 2>/dev/null | grep -c '^-')
mode=nft
[ "${legacy:-0}" -gt "${nft:-0}" ] && mode=legacy
for t in iptables ip6tables; do
  for s in "" -save -restore; do ln -sf "${t}-${mode}${s}" "/usr/sbin/${t}${s}"; done
done
exec "${0##*/}-${mode}" "$@"
WRAP
  chmod 0755 "${r}/usr/sbin/iptables-wrapper"
  oci_archive "${img}/kube-proxy.tar" "registry.k8s.io/kube-proxy:${kv}" "${r}" '{"Entrypoint":["/usr/local/bin/kube-proxy"]}'
  rm -rf "${tmp}"/root-* 
  rm -rf "${out}/images"; mv "${img}" "${out}/images"; rm -rf "${tmp}"
  record images $((SECONDS - start)) "${inputs}"
  log "images done in $((SECONDS - start))s: $(ls "${out}/images" | tr '\n' ' ')"
}

# kube_image_tag NAME : the tag kubeadm v1.37.2 uses for etcd, pause or
# coredns, from its constants (read from the module, not copied here).
kube_image_tag() {
  local c
  c="$(cd "${here}/kube" && "${GO}" list -m -f '{{.Dir}}' k8s.io/kubernetes)/cmd/kubeadm/app/constants/constants.go"
  case "$1" in
  etcd) sed -n 's/^\s*DefaultEtcdVersion = "\(.*\)"/\1/p' "${c}" ;;
  pause) sed -n 's/^\s*PauseVersion = "\(.*\)"/\1/p' "${c}" ;;
  coredns) sed -n 's/^\s*CoreDNSVersion = "\(.*\)"/\1/p' "${c}" ;;
  esac
}

# kind_image CONST : an image name kind v0.33.0's node image build pins.
kind_image() {
  sed -n "s/^const $1 = \"\\(.*\\)\"/\\1/p" "$(kind_dir)"/pkg/build/nodeimage/const_*.go
}

# kind_manifest CONST : one of the manifests kind v0.33.0's node image build
# writes under /kind/manifests, taken from its source, with the image names
# it splices in.
kind_manifest() {
  local src c
  src="$(kind_dir)/pkg/build/nodeimage"
  awk -v c="$1" '$0 ~ "^const "c" = `" {on=1; next} on && /^`/ {exit} on {print}' "${src}"/const_*.go >"${out}/.manifest"
  for c in kindnetdImage storageProvisionerImage storageHelperImage; do
    sed -i "s#\` + ${c} + \`#$(kind_image "${c}")#g" "${out}/.manifest"
  done
  cat "${out}/.manifest"; rm -f "${out}/.manifest"
}

# The node image: the rootfs with the runtime and Kubernetes installed and
# the images in containerd's store, laid out as kind's node image build
# (pkg/build/nodeimage) leaves it, imported into Podman as NODE_IMAGE.
NODE_IMAGE="${NODE_IMAGE:-localhost/k8slab/kind-node:v1.37.2}"
PODMAN="${PODMAN:-podman}"

stage_node() {
  local inputs
  inputs="image=${NODE_IMAGE} $(cat "${out}"/.stamp-rootfs "${out}"/.stamp-runtime "${out}"/.stamp-runc "${out}"/.stamp-kube "${out}"/.stamp-images | grep '^inputs=' | sha256sum | cut -c1-16) recipe=$(declare -f stage_node kind_manifest | sha256sum | cut -c1-16)"
  if fresh node "${inputs}" && ${PODMAN} image exists "${NODE_IMAGE}"; then log "node image ${NODE_IMAGE} up to date"; return; fi
  local start=${SECONDS} n="${out}/node.tmp" rt="${out}/runtime"
  rm -rf "${n}"
  log "assembling ${NODE_IMAGE}"
  mkdir -p "${n}"; cp -a "${out}/rootfs/." "${n}/"
  install -m 0755 "${rt}/containerd" "${rt}/ctr" "${rt}/containerd-shim-runc-v2" "${rt}/crictl" "${n}/usr/local/bin/"
  install -d "${n}/usr/local/sbin" "${n}/opt/cni/bin"
  install -m 0755 "${rt}/runc" "${n}/usr/local/sbin/"
  install -m 0755 "${rt}"/cni/* "${n}/opt/cni/bin/"
  "${rt}/ctr" oci spec |
    jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' |
    jq 'del(.process.rlimits)' >"${n}/etc/containerd/cri-base.json"
  # No pull may leave this machine: every registry resolves to a closed
  # port on the node's loopback, so an image that is not in the store (a
  # lab's deliberately wrong tag) fails to pull at once, as with no network.
  cat >>"${n}/etc/containerd/config.toml" <<'EOF'

# k8slab's offline node image: registries resolve to a closed local port.
[plugins."io.containerd.grpc.v1.cri".registry]
  config_path = "/etc/containerd/certs.d"
EOF
  # runc may not lower a process's oom_score_adj where the machine's
  # capability bounding set lacks CAP_SYS_RESOURCE (this one does: every
  # sandbox failed with "nsexec: failed to update /proc/self/oom_score_adj:
  # Permission denied"); containerd then keeps it at its own, as for
  # rootless nodes.
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' "${n}/etc/containerd/config.toml"
  local reg
  for reg in _default docker.io registry.k8s.io quay.io ghcr.io gcr.io; do
    install -d "${n}/etc/containerd/certs.d/${reg}"
    echo 'server = "http://127.0.0.1:1"' >"${n}/etc/containerd/certs.d/${reg}/hosts.toml"
  done
  install -m 0755 "${out}/kube/kubelet" "${out}/kube/kubeadm" "${out}/kube/kubectl" "${n}/usr/bin/"
  printf '%s' "$(cat "${out}/kube/version")" >"${n}/kind/version"
  install -d "${n}/kind/manifests"
  kind_manifest defaultCNIManifest >"${n}/kind/manifests/default-cni.yaml"
  kind_manifest defaultStorageManifest >"${n}/kind/manifests/default-storage.yaml"
  import_images "${n}"
  tar -C "${n}" --numeric-owner -cf - . |
    ${PODMAN} import \
      --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
      --change 'ENV container=docker' \
      --change 'STOPSIGNAL SIGRTMIN+3' \
      - "${NODE_IMAGE}" >/dev/null
  rm -rf "${n}"
  record node $((SECONDS - start)) "${inputs}"
  log "node image ${NODE_IMAGE} done in $((SECONDS - start))s"
}

# import_images ROOT : load every image archive into ROOT's containerd store
# (namespace k8s.io, not unpacked, as kind's build does), with the node's
# own containerd binary run on this machine against ROOT/var/lib/containerd:
# no container needed. Only the content and metadata plugins matter; the
# ones that would touch this machine (CRI, NRI, /opt) are off.
import_images() {
  local root="$1" run="${out}/.containerd"
  rm -rf "${run}"; mkdir -p "${run}"
  cat >"${run}/config.toml" <<EOF
version = 3
root = "${root}/var/lib/containerd"
state = "${run}/state"
disabled_plugins = ["io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime", "io.containerd.grpc.v1.cri", "io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs"]
[grpc]
  address = "${run}/containerd.sock"
[debug]
  address = "${run}/debug.sock"
[ttrpc]
  address = "${run}/ttrpc.sock"
EOF
  "${out}/runtime/containerd" --config "${run}/config.toml" >"${run}/log" 2>&1 &
  local pid=$! i a
  for i in $(seq 100); do
    "${out}/runtime/ctr" -a "${run}/containerd.sock" version >/dev/null 2>&1 && break
    kill -0 "${pid}" 2>/dev/null || { cat "${run}/log" >&2; echo "kindbuild: containerd for the import did not start" >&2; exit 1; }
    sleep 0.2
  done
  for a in "${out}"/images/*.tar; do
    "${out}/runtime/ctr" -a "${run}/containerd.sock" -n k8s.io images import --all-platforms --no-unpack --digests "${a}" >/dev/null
  done
  "${out}/runtime/ctr" -a "${run}/containerd.sock" -n k8s.io images ls -q
  kill "${pid}"; wait "${pid}" || true
  rm -rf "${run}"
}

# Stand-ins for the course's workload images (assets/course/images.yaml),
# every catalogued tag, for kind's image loading into a test cluster:
# busybox is Debian's busybox-static; the others are images/standin (which
# says what each one does) with busybox for sh, wget and nslookup.
stage_workloads() {
  local catalog="${here}/../../assets/course/images.yaml" inputs
  inputs="catalog=$(sha256sum "${catalog}" | cut -c1-16) standin=$(cat "${here}/images/go.mod" "${here}/images/standin/main.go" | sha256sum | cut -c1-16) busybox=${BUSYBOX_DEB} recipe=$(declare -f stage_workloads oci_archive | sha256sum | cut -c1-16)"
  if fresh workloads "${inputs}"; then log "workload stand-ins up to date"; return; fi
  ensure_busybox
  local start=${SECONDS} tmp="${out}/workloads.tmp" img r names image tags t a
  rm -rf "${tmp}"; mkdir -p "${tmp}/bin" "${tmp}/archives"
  (cd "${here}/images" && CGO_ENABLED=0 ${NICE} "${GO}" build -trimpath -buildvcs=false ${GOFLAGS_EXTRA} -ldflags "-s -w" -o "${tmp}/bin/" ./standin)
  while read -r image tags; do
    names=""
    for t in ${tags//,/ }; do
      case "${image}" in */*) names+="docker.io/${image}:${t} " ;; *) names+="docker.io/library/${image}:${t} " ;; esac
    done
    r="${tmp}/root"; rm -rf "${r}"; mkdir -p "${r}/bin" "${r}/tmp" "${r}/etc"; chmod 1777 "${r}/tmp"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"${r}/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\n' >"${r}/etc/group"
    cp "${out}/busybox/bin/busybox" "${r}/bin/"
    for a in $("${out}/busybox/bin/busybox" --list); do [[ -e "${r}/bin/${a}" ]] || ln -s busybox "${r}/bin/${a}"; done
    local settings='{"Cmd":["sh"]}' role="${image##*/}"
    if [[ "${role}" != busybox ]]; then
      cp "${tmp}/bin/standin" "${r}/standin"
      settings="{\"Entrypoint\":[\"/standin\",\"${role}\"]}"
      # Labs run stress by name (`command: ["stress"]`, replacing the
      # entrypoint), as it is on the real image's PATH.
      if [[ "${role}" == stress ]]; then
        settings='{"Entrypoint":["/standin","stress"],"Cmd":["--vm","1","--vm-bytes","256M","--vm-hang","1"]}'
        mkdir -p "${r}/usr/local/bin"; ln -s /standin "${r}/usr/local/bin/stress"
      fi
    fi
    oci_archive "${tmp}/archives/${role}.tar" "${names}" "${r}" "${settings}"
  done < <(awk '/^  - image:/{img=$3} /tags:/{t=1; buf=""} t{buf=buf $0; if ($0 ~ /\]/){t=0; sub(/.*\[/,"",buf); sub(/\].*/,"",buf); gsub(/[" ]/,"",buf); print img, buf}}' "${catalog}")
  rm -rf "${out}/workloads"; mv "${tmp}/archives" "${out}/workloads"; rm -rf "${tmp}"
  record workloads $((SECONDS - start)) "${inputs}"
  log "workload stand-ins done in $((SECONDS - start))s: $(ls "${out}/workloads" | tr '\n' ' ')"
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
  CGO_ENABLED=0 goinstall "${bin}" "x@${CRICTL_VERSION}" sigs.k8s.io/cri-tools/cmd/crictl
  CGO_ENABLED=0 goinstall "${bin}/cni" "x@${CNI_PLUGINS_VERSION}" \
    github.com/containernetworking/plugins/plugins/ipam/host-local github.com/containernetworking/plugins/plugins/main/loopback \
    github.com/containernetworking/plugins/plugins/main/ptp github.com/containernetworking/plugins/plugins/meta/portmap
  rm -rf "${out}/runtime"; mv "${bin}" "${out}/runtime"
  record runtime $((SECONDS - start)) "${inputs}"
  log "runtime done in $((SECONDS - start))s"
}

# runc, apart from the rest of the runtime (its own stamp, so a change here
# rebuilds nothing else). It must have seccomp: containerd's default spec
# carries a seccomp profile for every container, and a runc built without
# it refuses them all ("seccomp: config provided but seccomp not
# supported"). Linked statically against this machine's libseccomp.a
# (Debian's libseccomp-dev), so it loads no library from the node and the
# two glibc versions never meet; netgo and osusergo keep glibc's NSS out of
# the static binary, as runc's own `make static` does.
RUNC_TAGS="seccomp netgo osusergo"
stage_runc() {
  local seccomp
  seccomp="$(pkg-config --modversion libseccomp 2>/dev/null || true)"
  local inputs="runc=${RUNC_VERSION} tags=${RUNC_TAGS} libseccomp=${seccomp} go=$("${GO}" env GOVERSION)"
  if fresh runc "${inputs}" && [[ -x "${out}/runtime/runc" ]]; then log "runc up to date"; return; fi
  [[ -n "${seccomp}" && -f "$(pkg-config --variable=libdir libseccomp)/libseccomp.a" ]] ||
    { echo "kindbuild: runc needs libseccomp's static library: apt-get install libseccomp-dev pkg-config" >&2; exit 1; }
  local start=${SECONDS} bin="${out}/runc.tmp"
  rm -rf "${bin}"; mkdir -p "${bin}"
  log "building runc ${RUNC_VERSION} with libseccomp ${seccomp}, static"
  GOBIN="${bin}" CGO_ENABLED=1 ${NICE} "${GO}" install -trimpath ${GOFLAGS_EXTRA} -tags "${RUNC_TAGS}" \
    -ldflags "-s -w -extldflags -static" "github.com/opencontainers/runc@${RUNC_VERSION}"
  "${bin}/runc" --version | grep -q "^libseccomp: ${seccomp}" ||
    { "${bin}/runc" --version >&2; echo "kindbuild: runc was built without seccomp" >&2; exit 1; }
  mkdir -p "${out}/runtime"; mv "${bin}/runc" "${out}/runtime/runc"; rm -rf "${bin}"
  record runc $((SECONDS - start)) "${inputs}"
  log "runc done in $((SECONDS - start))s"
}

# What the stages take from Debian (debootstrap for the rootfs, libseccomp's
# static library for runc, Podman to import the image), installed when
# missing, as a fresh machine has none of them. Root, as the build is.
ensure_packages() {
  local missing=()
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  command -v jq >/dev/null || missing+=(jq)
  command -v pkg-config >/dev/null || missing+=(pkg-config)
  pkg-config --exists libseccomp 2>/dev/null || missing+=(libseccomp-dev)
  command -v podman >/dev/null || missing+=(podman runc)
  ((${#missing[@]} > 0)) || return 0
  log "installing ${missing[*]} from Debian's packages"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
ensure_packages

# The module knp_patched copies, downloaded up front: `go list -m` names a
# module's folder only once it is in the module cache, and on a fresh
# machine it is not (cp then failed on '/go.mod'). Kept out of the stages'
# recipes, which it does not change.
(cd "${here}/images" && "${GO}" mod download sigs.k8s.io/kube-network-policies)

for s in "${stages[@]}"; do
  case "${s}" in
  rootfs) stage_rootfs ;;
  runtime) stage_runtime; stage_runc ;;
  kube) stage_kube ;;
  images) stage_images ;;
  node) stage_node ;;
  workloads) stage_workloads ;;
  *) echo "kindbuild: unknown stage ${s}: use rootfs, runtime, kube, images, node or workloads" >&2; exit 2 ;;
  esac
done

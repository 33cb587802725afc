#!/usr/bin/env bash
# Build, from the Go module proxy only, the binaries a kwok-simulated
# Kubernetes cluster needs for `kwokctl create cluster --runtime binary`:
#   etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl
#
# Usage: build.sh [OUTDIR]
#   OUTDIR defaults to ${XDG_CACHE_HOME:-$HOME/.cache}/k8slab/sim/<kube version>
#
# When OUTDIR's stamp records the same inputs (go.mod, go.sum, build.sh,
# etcd/main.go) and every binary is there, nothing is built, so re-runs are
# instant. The stamp file (OUTDIR/.simbuild-stamp)
# records what was built. Environment knobs:
#   FORCE=1       rebuild everything
#   GO=go         go command to use
#   GOFLAGS_EXTRA extra flags for `go build` (e.g. "-p 1" or "-v")
#   CGO_ENABLED   defaults to 0 (static binaries)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "${here}"

GO="${GO:-go}"
# Keep in sync with go.mod (used for the default OUTDIR without calling go).
KUBE_VERSION_DEFAULT="v1.37.2"
out="${1:-${XDG_CACHE_HOME:-${HOME}/.cache}/k8slab/sim/${KUBE_VERSION_DEFAULT}}"

# binary name -> package (the output file name is the last path element)
declare -A pkgs=(
  [etcd]="./etcd"
  [kube-apiserver]="k8s.io/kubernetes/cmd/kube-apiserver"
  [kube-controller-manager]="k8s.io/kubernetes/cmd/kube-controller-manager"
  [kube-scheduler]="k8s.io/kubernetes/cmd/kube-scheduler"
  [kwok]="sigs.k8s.io/kwok/cmd/kwok"
  [kwokctl]="sigs.k8s.io/kwok/cmd/kwokctl"
)
order=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok kwokctl)

mkdir -p "${out}"

# Decide what needs building before touching the go command (instant re-runs).
# What the binaries are built from. Content, not modification times: a fresh
# clone (as in CI) has new mtimes but must still reuse the cached binaries.
inputs_sha="$(cat go.mod go.sum build.sh etcd/main.go | sha256sum | cut -d' ' -f1)"
stamp="${out}/.simbuild-stamp"
todo=()
if [[ "${FORCE:-0}" == 1 ]] || ! grep -qx "inputs_sha256=${inputs_sha}" "${stamp}" 2>/dev/null; then
  todo=("${order[@]}")
else
  for b in "${order[@]}"; do
    [[ -x "${out}/${b}" ]] || todo+=("${b}")
  done
fi

if [[ ${#todo[@]} -eq 0 ]]; then
  echo "simbuild: all binaries up to date in ${out}"
  exit 0
fi

export CGO_ENABLED="${CGO_ENABLED:-0}"

modver() { "${GO}" list -m -f '{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}' "$1"; }
modtime() { "${GO}" list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "$1"; }

kube_version="$(modver k8s.io/kubernetes)"      # v1.37.2
kube_build_date="$(modtime k8s.io/kubernetes)"  # release time, keeps builds reproducible
kwok_version="$(modver sigs.k8s.io/kwok)"       # v0.8.0
etcd_version="$(modver go.etcd.io/etcd/server/v3)"
if [[ ! "${kube_version}" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+ ]]; then
  echo "simbuild: cannot parse kubernetes version '${kube_version}'" >&2
  exit 1
fi
kube_major="${BASH_REMATCH[1]}"
kube_minor="${BASH_REMATCH[2]}"

# Same variables hack/lib/version.sh sets (kube::version::ldflags), plus kwok's
# consts (hack/releases.sh). -X for a package not linked into a binary is a
# no-op, so one flag set serves all binaries.
ldflags=(-s -w)
for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
  ldflags+=(
    "-X ${pkg}.gitVersion=${kube_version}"
    "-X ${pkg}.gitMajor=${kube_major}"
    "-X ${pkg}.gitMinor=${kube_minor}"
    "-X ${pkg}.gitTreeState=clean"
    "-X ${pkg}.gitCommit="
    "-X ${pkg}.buildDate=${kube_build_date}"
  )
done
ldflags+=(
  "-X sigs.k8s.io/kwok/pkg/consts.Version=${kwok_version}"
  "-X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${kube_version}"
)

build_pkgs=()
for b in "${todo[@]}"; do build_pkgs+=("${pkgs[${b}]}"); done

tmp="$(mktemp -d "${out}/.build.XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT

echo "simbuild: building ${todo[*]} (kubernetes ${kube_version}, etcd ${etcd_version}, kwok ${kwok_version}, CGO_ENABLED=${CGO_ENABLED}) -> ${out}"
start=${SECONDS}
# One `go build` for all packages: shared packages are compiled once and the
# go command schedules compile/link jobs in parallel (-p defaults to NumCPU).
# shellcheck disable=SC2086
"${GO}" build -trimpath -buildvcs=false -ldflags "${ldflags[*]}" ${GOFLAGS_EXTRA:-} -o "${tmp}/" "${build_pkgs[@]}"

for b in "${todo[@]}"; do
  mv -f "${tmp}/${b}" "${out}/${b}"
done

{
  echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "kubernetes=${kube_version}"
  echo "etcd=${etcd_version}"
  echo "kwok=${kwok_version}"
  echo "go=$("${GO}" env GOVERSION) $("${GO}" env GOOS)/$("${GO}" env GOARCH) CGO_ENABLED=${CGO_ENABLED}"
  echo "inputs_sha256=${inputs_sha}"
  echo "last_build_seconds=$((SECONDS - start))"
  echo "last_built=${todo[*]}"
} >"${stamp}"

echo "simbuild: done in $((SECONDS - start))s"
ls -l "${out}"

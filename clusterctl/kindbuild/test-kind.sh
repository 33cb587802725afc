#!/usr/bin/env bash
# Prove k8slab's kind provider end to end on this machine, offline: build (or
# reuse) the node image, create a cluster with `k8slab cluster up --provider
# kind`, check that a second `up` reuses it, load the workload stand-ins with
# kind's image loading, verify labs, run the README's CI recipe, delete the
# cluster and check that nothing of it is left. Podman is installed from
# Debian's packages when no engine runs. Everything k8slab writes goes to a
# temporary XDG_STATE_HOME.
#
# Usage: test-kind.sh [LAB...]   (no LAB: every lab `k8slab lab verify` lists)
# Environment: NODE_IMAGE, KEEP=1 (leave the cluster up), K8SLAB (a built binary),
# CI_RECIPE=0 (skip the README's CI recipe), CI_LABS (the labs it grades).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
NODE_IMAGE="${NODE_IMAGE:-localhost/k8slab/kind-node:v1.37.2}"
KIND_VERSION=v0.33.0
log() { echo "test-kind: $*"; }
t0=${SECONDS}

if ! command -v podman >/dev/null && ! command -v docker >/dev/null; then
  log "no container engine: installing Podman from Debian's packages"
  apt-get update -qq && apt-get install -y -qq podman runc >/dev/null
fi
export KIND_EXPERIMENTAL_PROVIDER="${KIND_EXPERIMENTAL_PROVIDER:-podman}"
# Podman 4 on Debian 12 networks through CNI, where container names resolve
# only with the dnsname plugin: without it the workers never find the
# control plane (k8slab's cluster up says so). A network kind made before
# the plugin was there has no DNS and is made again.
if [[ "$(podman info --format '{{.Host.NetworkBackend}}' 2>/dev/null)" == cni ]] &&
  ! compgen -G '/usr/lib/cni/dnsname' >/dev/null && ! compgen -G '/usr/libexec/cni/dnsname' >/dev/null; then
  log "installing Podman's CNI dnsname plugin from Debian's packages"
  apt-get install -y -qq golang-github-containernetworking-plugin-dnsname >/dev/null
  if podman network inspect kind --format '{{.DNSEnabled}}' 2>/dev/null | grep -qx false; then podman network rm kind >/dev/null; fi
fi
# Podman's default nofile ulimit can exceed the machine's hard limit, and
# its crun refuses hybrid cgroups: a containers.conf of our own, unless the
# caller named one.
if [[ -z "${CONTAINERS_CONF:-}" ]]; then
  export CONTAINERS_CONF="${TMPDIR:-/tmp}/k8slab-test-kind-containers.conf"
  printf '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n' >"${CONTAINERS_CONF}"
fi
# kind bind-mounts /lib/modules into every node; a machine without kernel
# modules (a container or a VM with a built-in kernel) has no such directory.
[[ -d /lib/modules ]] || { log "creating the empty /lib/modules kind mounts"; mkdir -p /lib/modules; }

s=${SECONDS}
make -C "${root}" --no-print-directory kind-image KIND_NODE_IMAGE="${NODE_IMAGE}"
log "node image ready in $((SECONDS - s))s"

state="$(mktemp -d)"
export XDG_STATE_HOME="${state}"
bin="${K8SLAB:-${state}/k8slab}"
[[ -x "${bin}" ]] || (cd "${root}" && go build -o "${bin}" ./cmd/k8slab)
kind=(go run "sigs.k8s.io/kind@${KIND_VERSION}")
cleanup() {
  [[ "${KEEP:-0}" == 1 ]] && { log "KEEP=1: cluster left up; XDG_STATE_HOME=${state}"; return; }
  "${bin}" cluster down || true
}
trap cleanup EXIT

s=${SECONDS}
"${bin}" cluster up --provider kind --node-image "${NODE_IMAGE}"
log "cluster up (created) in $((SECONDS - s))s"
s=${SECONDS}
out="$("${bin}" cluster up --provider kind --node-image "${NODE_IMAGE}")"
grep -q 'already running' <<<"${out}" || { echo "${out}"; log "FAIL: a second cluster up did not reuse the cluster"; exit 1; }
log "cluster up (reused) in $((SECONDS - s))s"
"${bin}" cluster status

s=${SECONDS}
for a in "${HOME}/.cache/k8slab/kind/workloads"/*.tar; do
  (cd "${root}" && "${kind[@]}" load image-archive "${a}" --name k8slab)
done
log "workload stand-ins loaded in $((SECONDS - s))s"

# An image without a tag, or :latest, is pulled with policy Always: the
# kubelet asks the registry each time, even for an image kind load put in
# the node, and offline that pull never succeeds (fix-workloads runs
# polinux/stress so). A learner's kind reaches Docker Hub; here each node
# gets a read-only registry on its loopback serving the same stand-ins
# (clusterctl/kindbuild/registry), and containerd's docker.io mirror points at it, so
# Always resolves locally and an uncatalogued tag fails as "not found".
s=${SECONDS}
engine="${KIND_EXPERIMENTAL_PROVIDER}"
(cd "${root}" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${state}/registry" ./clusterctl/kindbuild/registry)
for node in $("${engine}" ps --filter label=io.x-k8s.kind.cluster=k8slab --format '{{.Names}}'); do
  "${engine}" cp "${state}/registry" "${node}:/usr/local/bin/k8slab-registry"
  "${engine}" exec "${node}" mkdir -p /kind/standins
  for a in "${HOME}/.cache/k8slab/kind/workloads"/*.tar; do "${engine}" cp "${a}" "${node}:/kind/standins/"; done
  "${engine}" exec "${node}" sh -c 'systemctl is-active -q k8slab-registry ||
    systemd-run -q --unit k8slab-registry /usr/local/bin/k8slab-registry 127.0.0.1:5000 /kind/standins
    printf "server = \"http://127.0.0.1:5000\"\n" >/etc/containerd/certs.d/docker.io/hosts.toml
    for i in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:5000/v2/ && exit 0; sleep 0.2; done; exit 1' ||
    { log "FAIL: the stand-in registry did not start on ${node}"; exit 1; }
done
log "stand-in registry on every node in $((SECONDS - s))s"

labs=("$@")
if [[ ${#labs[@]} -eq 0 ]]; then
  mapfile -t labs < <("${bin}" labs | awk 'NR>1 && $1 ~ /^[a-z0-9-]+$/ {print $1}')
fi
failed=()
for lab in "${labs[@]}"; do
  s=${SECONDS}
  # A kind cluster lacks nothing: a task lab verify skips here is a task
  # never proven.
  if "${bin}" lab verify "${lab}" | tee "${state}/verify.out" && ! grep -q '^  skipped' "${state}/verify.out"; then
    log "lab ${lab} verified in $((SECONDS - s))s"
  else
    failed+=("${lab}"); log "lab ${lab} FAILED after $((SECONDS - s))s"
  fi
done

# The README's CI recipe (a teacher's assignment) for the labs the
# simulator cannot grade from manifests (dynamic-provisioning), or for
# CI_LABS="a b": a correct submission gets full marks, each wrong one less.
if [[ "${CI_RECIPE:-1}" == 1 ]]; then
  s=${SECONDS}
  if (cd "${root}" && K8SLAB_KIND_KUBECONFIG="$("${bin}" cluster kubeconfig)" K8SLAB_LABS="${CI_LABS:-}" \
    go test -count=1 -timeout 30m -run '^TestREADMECIRecipeOnKind$' -v ./cmd/k8slab); then
    log "CI recipe on kind passed in $((SECONDS - s))s"
  else
    failed+=("ci-recipe"); log "CI recipe on kind FAILED after $((SECONDS - s))s"
  fi
fi

if [[ "${KEEP:-0}" != 1 ]]; then
  trap - EXIT
  "${bin}" cluster down
  # kind labels node containers with the cluster, and Podman volumes with
  # "<node>=true".
  left="$(podman ps -a -q --filter label=io.x-k8s.kind.cluster=k8slab
    for n in k8slab-control-plane k8slab-worker k8slab-worker2; do podman volume ls -q --filter "label=${n}=true"; done)"
  [[ -z "${left}" ]] || { log "FAIL: cluster down left containers or volumes: ${left}"; exit 1; }
fi
log "done in $((SECONDS - t0))s; ${#failed[@]} of ${#labs[@]} labs failed${failed:+: ${failed[*]}}"
[[ ${#failed[@]} -eq 0 ]]

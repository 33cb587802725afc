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
#        test-kind.sh --image      (stop once the node image runs privileged)
# Environment: NODE_IMAGE, KIND_CACHE (the image's stages, ~/.cache/k8slab/kind),
# KEEP=1 (leave the cluster up), K8SLAB (a built binary),
# CI_RECIPE=0 (skip the README's CI recipe), CI_LABS (the labs it grades),
# WORKSHOP=0 (skip the workshop's fence on kind), JOBS (labs proved at
# once, 3), MISTAKE_JOBS (each lab's mistakes made at once, 4: lab verify --jobs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${here}/../.." && pwd)"
NODE_IMAGE="${NODE_IMAGE:-localhost/k8slab/kind-node:v1.37.2}"
KIND_CACHE="${KIND_CACHE:-${HOME}/.cache/k8slab/kind}"
KIND_VERSION=v0.33.0
log() { echo "test-kind: $*"; }
t0=${SECONDS}
image_only=0
[[ "${1:-}" != --image ]] || { image_only=1; shift; }

# The node image is built into Podman, so Podman it is, even beside Docker.
if ! command -v podman >/dev/null; then
  log "no Podman: installing it from Debian's packages"
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
make -C "${root}" --no-print-directory kind-image KIND_NODE_IMAGE="${NODE_IMAGE}" KIND_CACHE="${KIND_CACHE}"
log "node image ready in $((SECONDS - s))s"

# Every kind node is a privileged container that mounts file systems. A
# machine where that fails (Docker asking for a capability the machine's
# bounding set lacks, a rootless engine, an unprivileged CI container)
# fails here in seconds, saying what to do, rather than minutes later in
# kubeadm's words, and never skips kind.
engine="${KIND_EXPERIMENTAL_PROVIDER}"
if ! out="$("${engine}" run --rm --privileged --network none --entrypoint sh "${NODE_IMAGE}" \
  -c 'mount -t tmpfs check /mnt && umount /mnt' 2>&1)"; then
  echo "${out}" >&2
  log "FAIL: ${engine} cannot run a privileged container here, and every kind node is one."
  log "What to do: run this as root on a machine or VM that allows privileged containers (a CI"
  log "job inside a container needs --privileged). Use Podman (KIND_EXPERIMENTAL_PROVIDER=podman,"
  log "the default here): Docker asks for every capability the kernel knows and fails where the"
  log "machine's bounding set lacks one ('unable to apply caps'); Podman grants only that set."
  log "Podman's own set-up: the containers.conf this script writes (${CONTAINERS_CONF}) gives no"
  log "default nofile ulimit and runs runc, not crun; rootless Podman needs cgroup v2 with"
  log "systemd delegating cpu, memory and pids. README, 'A cluster for the labs', says more."
  exit 1
fi
log "${engine} runs the node image privileged"
((!image_only)) || exit 0

state="$(mktemp -d)"
export XDG_STATE_HOME="${state}"
bin="${K8SLAB:-${state}/k8slab}"
[[ -x "${bin}" ]] || (cd "${root}" && go build -o "${bin}" ./cmd/k8slab)
kind=(go run "sigs.k8s.io/kind@${KIND_VERSION}")
# cluster down, once more after thawing: on cgroup v1 a pod container
# caught mid-start when its node stops can stay in the freezer (runc init
# in state D, "refrigerator"), and the node container then never stops
# (seen here: Podman's rm exits 125 and the node stays "Stopping"). The
# frozen cgroups are the node's own, found under its container id.
down() {
  "${bin}" cluster down && return
  local id d f
  for id in $("${engine}" ps -a -q --no-trunc --filter label=io.x-k8s.kind.cluster=k8slab); do
    while read -r d; do
      while read -r f; do
        [[ "$(cat "${f}")" == THAWED ]] || { log "thawing ${f%/freezer.state}"; echo THAWED >"${f}" || true; }
      done < <(find "${d}" -name freezer.state 2>/dev/null)
    done < <(find /sys/fs/cgroup/freezer -maxdepth 3 -type d -name "*${id}*" 2>/dev/null)
  done
  "${bin}" cluster down
}
cleanup() {
  [[ "${KEEP:-0}" == 1 ]] && { log "KEEP=1: cluster left up; XDG_STATE_HOME=${state}"; return; }
  down || true
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
for a in "${KIND_CACHE}/workloads"/*.tar; do
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
(cd "${root}" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" -o "${state}/registry" ./clusterctl/kindbuild/registry)
for node in $("${engine}" ps --filter label=io.x-k8s.kind.cluster=k8slab --format '{{.Names}}'); do
  "${engine}" cp "${state}/registry" "${node}:/usr/local/bin/k8slab-registry"
  "${engine}" exec "${node}" mkdir -p /kind/standins
  for a in "${KIND_CACHE}/workloads"/*.tar; do "${engine}" cp "${a}" "${node}:/kind/standins/"; done
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
# Labs are proved JOBS at a time: each works in throwaway namespaces of its
# own, and most of a proof is waiting on the kubelet's clocks (back-off,
# probes, rollouts), so one after the other would take over an hour. The
# labs that change something cluster-wide (node labels) go one after the
# other in a single slot, so no two of them meet.
mapfile -t wide < <("${bin}" labs | awk 'NR>1 && /cluster-wide/ {print $1}')
chains=() serial=""
for lab in "${labs[@]}"; do
  if [[ " ${wide[*]} " == *" ${lab} "* ]]; then serial+=" ${lab}"; else chains+=("${lab}"); fi
done
[[ -z "${serial}" ]] || chains=("${serial# }" "${chains[@]}")
# The slowest (measured here: fix-workloads waits out crash-loop back-offs)
# start first, so none of them is left to run alone at the end.
for slow in three-tier rolling-updates services fix-workloads; do
  for i in "${!chains[@]}"; do
    [[ "${chains[i]}" == "${slow}" ]] && { unset 'chains[i]'; chains=("${slow}" "${chains[@]}"); break; }
  done
done
prove() { # LAB: lab verify, its output shown whole when it ends
  local lab="$1" s=${SECONDS} out="${state}/verify-$1.out" ok=1
  # A kind cluster lacks nothing: a task lab verify skips here is a task
  # never proven.
  "${bin}" lab verify --jobs "${MISTAKE_JOBS:-4}" "${lab}" >"${out}" 2>&1 && ! grep -q '^  skipped' "${out}" || ok=0
  { cat "${out}"; if ((ok)); then log "lab ${lab} verified in $((SECONDS - s))s"; else log "lab ${lab} FAILED after $((SECONDS - s))s"; fi; } >"${out}.done"
  cat "${out}.done"
  ((ok)) || touch "${state}/failed-${lab}"
}
s=${SECONDS}
for chain in "${chains[@]}"; do
  while (($(jobs -rp | wc -l) >= ${JOBS:-3})); do wait -n || true; done
  (for lab in ${chain}; do prove "${lab}"; done) &
done
wait
failed=()
for lab in "${labs[@]}"; do [[ ! -e "${state}/failed-${lab}" ]] || failed+=("${lab}"); done
log "${#labs[@]} labs proved, ${JOBS:-3} at a time, in $((SECONDS - s))s"

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

# A workshop on a real kubelet and pod network (TestWorkshopOnKind): an
# instructor's `workshop init` of three learners; pods that reach the node
# refused; a learner's pod reaching its own pod, Service and DNS and not
# another learner's (kindnetd enforcing the fence's NetworkPolicy); a
# nodePort another learner holds refused; two labs proven inside a fence;
# then `workshop delete --wait`. WORKSHOP=0 skips it.
if [[ "${WORKSHOP:-1}" == 1 ]]; then
  s=${SECONDS}
  ws=kindproof wsdir="${state}/kindproof-kubeconfigs"
  if "${bin}" workshop init "${ws}" --learners 3 --labs pods,services --out "${wsdir}" &&
    (cd "${root}" && K8SLAB_KIND_KUBECONFIG="$("${bin}" cluster kubeconfig)" K8SLAB_KIND_WORKSHOP="${ws}" K8SLAB_KIND_WORKSHOP_DIR="${wsdir}" \
      go test -count=1 -timeout 15m -run '^TestWorkshopOnKind$' -v ./workshop) &&
    "${bin}" workshop delete "${ws}" --wait; then
    log "workshop on kind passed in $((SECONDS - s))s"
  else
    failed+=("workshop"); log "workshop on kind FAILED after $((SECONDS - s))s"
  fi
fi

if [[ "${KEEP:-0}" != 1 ]]; then
  trap - EXIT
  down
  # kind labels node containers with the cluster, and Podman volumes with
  # "<node>=true".
  left="$(podman ps -a -q --filter label=io.x-k8s.kind.cluster=k8slab
    for n in k8slab-control-plane k8slab-worker k8slab-worker2; do podman volume ls -q --filter "label=${n}=true"; done)"
  [[ -z "${left}" ]] || { log "FAIL: cluster down left containers or volumes: ${left}"; exit 1; }
fi
log "done in $((SECONDS - t0))s; ${#failed[@]} of ${#labs[@]} labs failed${failed:+: ${failed[*]}}"
[[ ${#failed[@]} -eq 0 ]]

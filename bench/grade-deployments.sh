#!/bin/sh
# Grades the deployments lab the way shell-based lab platforms do: one
# kubectl call per check, each reading one field with jsonpath (or asking
# rollout status). It is the yardstick 'make bench-grade' runs side by side
# with 'k8slab check deployments' on the same cluster; run it by hand with
#
#   KUBECONFIG=path/to/kubeconfig bench/grade-deployments.sh [NAMESPACE]
#
# It checks what the lab's tasks check (assets/course/deployments/labs):
# image and replica count, a finished rollout, 5 ready replicas, and a pod
# replaced by its ReplicaSet (a pod created 2 s after the last change to the
# deployment or its ReplicaSets, or one the ReplicaSet created that is gone
# although it never deleted it). Exit 0 when all pass, 1 otherwise.
set -u
ns=${1:-lab-deployments}
k() { kubectl --namespace "$ns" "$@"; }
failed=0
no() {
	echo "FAIL: $*"
	failed=1
}

# Task create-deployment.
image=$(k get deployment web -o jsonpath='{.spec.template.spec.containers[*].image}')
case " $image " in
*" nginx:1.27 "* | *" docker.io/library/nginx:1.27 "*) ;;
*) no "deployment web does not run the image nginx:1.27" ;;
esac
replicas=$(k get deployment web -o jsonpath='{.spec.replicas}')
[ "${replicas:-0}" -ge 3 ] || no "deployment web asks for fewer than 3 replicas"
k rollout status deployment/web --timeout=1s >/dev/null 2>&1 || no "the rollout of web has not finished"

# Task scale-up.
replicas=$(k get deployment web -o jsonpath='{.spec.replicas}')
[ "$replicas" = 5 ] || no "deployment web asks for ${replicas:-no} replicas; the task asks for 5"
ready=$(k get deployment web -o jsonpath='{.status.readyReplicas}')
[ "$ready" = 5 ] || no "deployment web does not have 5 ready replicas yet"

# Task replace-pod: the newest pod against the last write (other than to
# status) to the deployment and its ReplicaSets; else the ReplicaSets'
# events. A write through the scale subresource has no time in
# managedFields; the ReplicaSet's own write then tells when it was.
newest_write() { awk '$1 ~ /^[0-9]/ && $2 != "status" && $1 > t { t = $1 } END { print t }'; }
pods=$(k get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.creationTimestamp} {.metadata.name}{"\n"}{end}')
dep=$(k get deployment web -o jsonpath='{range .metadata.managedFields[*]}{.time} {.subresource}{"\n"}{end}' | newest_write)
rs=$(k get replicasets -l app=web -o jsonpath='{range .items[*].metadata.managedFields[*]}{.time} {.subresource}{"\n"}{end}' | newest_write)
events=$(k get events --field-selector involvedObject.kind=ReplicaSet -o jsonpath='{range .items[*]}{.reason} {.message}{"\n"}{end}')
since=$dep
[ "$rs" \> "$since" ] && since=$rs
newest=$(printf '%s\n' "$pods" | sort | tail -n 1 | cut -d ' ' -f 1)
replaced=no
if [ -n "$newest" ] && [ -n "$since" ] &&
	[ "$(date -d "$newest" +%s)" -ge "$(($(date -d "$since" +%s) + 2))" ]; then
	replaced=yes
else
	created=$(printf '%s\n' "$events" | sed -n 's/^SuccessfulCreate Created pod: //p')
	deleted=$(printf '%s\n' "$events" | sed -n 's/^SuccessfulDelete Deleted pod: //p')
	live=$(printf '%s\n' "$pods" | cut -d ' ' -f 2)
	for p in $created; do
		if ! printf '%s\n' "$live" "$deleted" | grep -qx "$p"; then
			replaced=yes
		fi
	done
fi
[ "$replaced" = yes ] || no "no pod of deployment web has been replaced yet"
replicas=$(k get deployment web -o jsonpath='{.spec.replicas}')
[ "$replicas" = 5 ] || no "deployment web no longer asks for 5 replicas"
ready=$(k get deployment web -o jsonpath='{.status.readyReplicas}')
[ "$ready" = 5 ] || no "deployment web does not have 5 ready replicas yet"

exit $failed

package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/resourceversion"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("servedThroughRollout", func() CheckKind { return &ServedThroughRollout{} })
}

// ServedThroughRollout holds when the service kept a ready pod behind it
// through the deployment's latest rollout: at the moment the last of the
// old pods were let go, one of the pods it sends traffic to now was
// already ready, and has stayed ready since.
//
// It reads what the cluster recorded rather than watching: the deployment
// controller's ScalingReplicaSet events say when each old ReplicaSet was
// scaled to zero, and each pod's Ready condition says since when it has
// been ready. A check run long after the change sees the same evidence as
// one that watched it happen.
type ServedThroughRollout struct {
	Deployment string `yaml:"deployment"`
	Service    string `yaml:"service"`
}

// LiveOnly: this check grades what happened, not the objects as they are.
func (c *ServedThroughRollout) LiveOnly() string {
	return "a rollout on the live cluster, which a fresh apply does not start"
}

func (c *ServedThroughRollout) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
	if c.Service == "" {
		v.Add(node, "%s needs the service's name", what)
	}
}

func (c *ServedThroughRollout) reads(ns string) []clustercache.Key {
	return append(inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR, kube.PodsGVR, kube.ServicesGVR), deploymentEvents(ns))
}

// deploymentEvents are the events about Deployments, where the
// deployment controller records its scalings; the many about pods are
// not needed.
func deploymentEvents(ns string) clustercache.Key {
	return clustercache.Key{Resource: kube.EventsGVR, Namespace: ns, FieldSelector: "involvedObject.kind=Deployment"}
}

func (c *ServedThroughRollout) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return servedThroughRollout(ctx, snap, ns, *c)
}

// scalingMessage is the deployment controller's ScalingReplicaSet event
// (pkg/controller/deployment/sync.go): "Scaled down replica set web-5d7
// from 2 to 0".
var scalingMessage = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^Scaled (up|down) replica set (\S+) from (\d+) to (\d+)$`)
})

// combinedPrefix starts the message of an event into which client-go's
// event aggregator folded similar ones (more than ten in ten minutes); it
// carries only the newest message.
const combinedPrefix = "(combined from similar events): "

// scaling is one ScalingReplicaSet event of a deployment.
type scaling struct {
	replicaSet string
	down       bool
	to         int
	at         time.Time
	rv         string
	combined   bool
}

// before orders two moments the cluster recorded. Event and condition
// times have one-second resolution; within a second the resource
// versions, which etcd hands out in the order of writes, decide.
func before(at time.Time, rv string, thenAt time.Time, thenRV string) bool {
	a, b := at.Unix(), thenAt.Unix()
	if a != b {
		return a < b
	}
	cmp, err := resourceversion.CompareResourceVersion(rv, thenRV)
	return err == nil && cmp < 0
}

func scalingsOf(d *appsv1.Deployment, events []corev1.Event) []scaling {
	var out []scaling
	for i := range events {
		ev := &events[i]
		o := ev.InvolvedObject
		if ev.Reason != "ScalingReplicaSet" || o.Kind != "Deployment" || o.Name != d.Name || (o.UID != "" && o.UID != d.UID) {
			continue
		}
		msg, combined := strings.CutPrefix(ev.Message, combinedPrefix)
		m := scalingMessage().FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		to, _ := strconv.Atoi(m[4])
		at := ev.LastTimestamp.Time
		if at.IsZero() {
			at = ev.EventTime.Time
		}
		if at.IsZero() {
			at = ev.CreationTimestamp.Time
		}
		out = append(out, scaling{replicaSet: m[2], down: m[1] == "down", to: to, at: at, rv: ev.ResourceVersion, combined: combined})
	}
	return out
}

// readySince is when p last became ready, and whether it is ready now.
func readySince(p *corev1.Pod) (time.Time, bool) {
	if !kube.PodReady(p) {
		return time.Time{}, false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.LastTransitionTime.Time, !c.LastTransitionTime.IsZero()
		}
	}
	return time.Time{}, false
}

func clock(t time.Time) string { return t.UTC().Format("15:04:05 UTC") }

func servedThroughRollout(ctx context.Context, snap clustercache.Snapshot, ns string, spec ServedThroughRollout) Outcome {
	d, out := getDeployment(ctx, snap, ns, spec.Deployment)
	if out != nil {
		return *out
	}
	svc, out := getService(ctx, snap, ns, spec.Service)
	if out != nil {
		return *out
	}
	if len(svc.Spec.Selector) == 0 {
		return failed(fmt.Sprintf("service %s has no selector, so no pod was ever behind it", svc.Name))
	}
	owned, cur, unreadable := deploymentReplicaSets(ctx, snap, ns, d)
	if unreadable != nil {
		return *unreadable
	}
	if cur == nil {
		return settling(fmt.Sprintf("deployment %s's current template has no ReplicaSet yet; wait a moment for the deployment controller", d.Name))
	}
	var running []string
	for i := range owned {
		rs := &owned[i]
		if rs.Name != cur.Name && (rs.Status.Replicas > 0 || (rs.Spec.Replicas != nil && *rs.Spec.Replicas > 0)) {
			running = append(running, rs.Name)
		}
	}
	if len(running) > 0 {
		return settling(fmt.Sprintf("the rollout of deployment %s has not finished: old ReplicaSet %s still has pods; wait for kubectl rollout status deployment/%s",
			d.Name, nameList(running), d.Name))
	}
	if len(owned) == 1 && kube.Revision(cur) <= 1 {
		// A Deployment deleted and created again starts over at revision
		// 1, and between the two nothing served.
		return failed(fmt.Sprintf("deployment %s is at its first revision: it has not been rolled out yet, or it was deleted and created again, which left its Service with no pods in between; update the existing Deployment with kubectl set image", d.Name))
	}

	events, unreadable := listKeyTyped[corev1.Event](ctx, snap, deploymentEvents(ns))
	if unreadable != nil {
		return *unreadable
	}
	// The moment that matters is the last time an old ReplicaSet was
	// scaled to zero: from then on only the current one's pods serve.
	var last *scaling
	var folded *scaling
	scalings := scalingsOf(d, events)
	for i := range scalings {
		s := &scalings[i]
		if s.combined && (folded == nil || before(folded.at, folded.rv, s.at, s.rv)) {
			folded = s
		}
		if s.replicaSet == cur.Name || !s.down || s.to != 0 {
			continue
		}
		if last == nil || before(last.at, last.rv, s.at, s.rv) {
			last = s
		}
	}
	if folded != nil && folded != last && (last == nil || !before(folded.at, folded.rv, last.at, last.rv)) {
		// The aggregator kept only its newest message: the scaling we
		// need may be among the ones it dropped.
		return failed(fmt.Sprintf("deployment %s was scaled more than ten times within ten minutes, so the cluster folded its scaling events together and no longer shows how the last rollout went; wait ten minutes, then roll out again with kubectl rollout restart deployment/%s", d.Name, d.Name))
	}
	if last == nil {
		return failed(fmt.Sprintf("the cluster holds no record of deployment %s's old pods being let go (events are kept for an hour); roll out again with kubectl rollout restart deployment/%s and check once it has finished", d.Name, d.Name))
	}
	if svc.CreationTimestamp.Time.Unix() > last.at.Unix() {
		return failed(fmt.Sprintf("service %s was created at %s, after deployment %s's old pods were let go at %s: while it was missing nothing was served; keep the Service through a rollout",
			svc.Name, clock(svc.CreationTimestamp.Time), d.Name, clock(last.at)))
	}

	pods, unreadable := listTyped[corev1.Pod](ctx, snap, kube.PodsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	serving := 0
	for i := range pods {
		p := &pods[i]
		if !sel.Matches(labels.Set(p.Labels)) {
			continue
		}
		since, ready := readySince(p)
		if !ready {
			continue
		}
		serving++
		if before(since, p.ResourceVersion, last.at, last.rv) {
			return passed()
		}
	}
	if serving == 0 {
		return settling(fmt.Sprintf("service %s has no ready pod behind it now; wait for deployment %s's pods to become ready", svc.Name, d.Name))
	}
	return failed(fmt.Sprintf("service %s was left with no ready pod during the rollout of deployment %s: its old pods were let go at %s (kubectl get events), before any of its pods now serving was ready. Keep a ready pod with a rolling update (maxUnavailable: 0) and roll out again: kubectl rollout restart deployment/%s",
		svc.Name, d.Name, clock(last.at), d.Name))
}

package timeline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/k8slab/k8slab/internal/textsafe"
)

// Reasons and messages as Kubernetes 1.37 words them:
// pkg/controller/deployment/sync.go (ScalingReplicaSet),
// pkg/controller/controller_utils.go (SuccessfulCreate, SuccessfulDelete,
// FailedCreate), pkg/scheduler/schedule_one.go (Scheduled) and the
// kubelet's container events (Pulling, Pulled, Created, Started, Killing,
// Failed, BackOff, Unhealthy), which the simulator words the same way.
var (
	scaledRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^Scaled (up|down) replica set (\S+) from (\d+) to (\d+)`)
	})
	podNameRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(?:Created|Deleted) pod: (\S+)`) })
	assignedRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^Successfully assigned [^/\s]+/(\S+) to (\S+)`) })
)

// actorOfComponent names an event's reporter in plain words. The
// controllers' event sources are set in pkg/controller/*/
// (deployment-controller, replicaset-controller,
// endpoint-slice-controller), the scheduler's is its profile's name.
func actorOfComponent(component, host string) string {
	switch component {
	case "deployment-controller":
		return "deployment controller"
	case "replicaset-controller":
		return "replicaset controller"
	case "default-scheduler":
		return "scheduler"
	case "endpoint-slice-controller":
		return "endpointslice controller"
	case "kubelet":
		if host != "" {
			return "kubelet on " + host
		}
		return "kubelet"
	case "":
		return "the cluster"
	}
	return strings.ReplaceAll(component, "-", " ")
}

func str(u *unstructured.Unstructured, fields ...string) string {
	s, _, _ := unstructured.NestedString(u.Object, fields...)
	return s
}

// eventTime is when an event last happened, and whether that is known
// finer than the second. events.k8s.io events carry eventTime to the
// microsecond; core/v1 recorders name an event after the nanosecond of
// its first occurrence (client-go tools/record/util.GenerateEventName:
// "%s.%x" of the involved object's name and UnixNano), which is exact
// for an event that happened once.
func eventTime(u *unstructured.Unstructured) (time.Time, bool) {
	if s := str(u, "eventTime"); s != "" {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			if series := str(u, "series", "lastObservedTime"); series != "" {
				if t2, err := time.Parse(time.RFC3339Nano, series); err == nil {
					return t2, true
				}
			}
			return t, true
		}
	}
	last, _ := time.Parse(time.RFC3339, str(u, "lastTimestamp"))
	if last.IsZero() {
		last, _ = time.Parse(time.RFC3339, str(u, "firstTimestamp"))
	}
	if last.IsZero() {
		last = u.GetCreationTimestamp().Time
	}
	count, _, _ := unstructured.NestedInt64(u.Object, "count")
	if count <= 1 {
		name := u.GetName()
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			if ns, err := strconv.ParseInt(name[i+1:], 16, 64); err == nil {
				t := time.Unix(0, ns)
				if d := t.Sub(last); d > -time.Second && d < time.Second {
					return t, true
				}
			}
		}
	}
	return last, false
}

// event reads one Event (core/v1, which also serves events.k8s.io's).
func (r *reading) event(u *unstructured.Unstructured) {
	component := str(u, "reportingComponent")
	if component == "" {
		component = str(u, "source", "component")
	}
	host := str(u, "reportingInstance")
	if h := str(u, "source", "host"); h != "" {
		host = h
	}
	at, precise := eventTime(u)
	count, _, _ := unstructured.NestedInt64(u.Object, "count")
	reason, msg := str(u, "reason"), strings.TrimSpace(str(u, "message"))
	// client-go's event correlator rewords the 11th similar event in
	// ten minutes (tools/record/events_cache.go).
	msg = textsafe.Inert(strings.TrimPrefix(msg, "(combined from similar events): "))
	kind, name := str(u, "involvedObject", "kind"), str(u, "involvedObject", "name")
	f := &fact{key: fmt.Sprintf("ev|%s|%d", u.GetUID(), count), time: at, precise: precise, actor: actorOfComponent(component, host)}
	// An event is written after what it tells, and a controller
	// reports on the Deployment at the version it acted on: each places
	// the event after the write that caused it. An event seen again
	// (count > 1: client-go's correlator patches the count and message
	// of a similar one, tools/record/events_cache.go) keeps the
	// involvedObject of its first occurrence, so only its own version,
	// which the patch moves, places it.
	f.rv = rvOf(u.GetResourceVersion())
	if kind == "Deployment" && count <= 1 {
		if rv := rvOf(str(u, "involvedObject", "resourceVersion")); rv > 0 {
			f.rv = rv
		}
	}
	kubelet := func(rank int, item string) {
		f.kind = KindStart
		f.rank, f.subject, f.mergeKey, f.head, f.item = rank, name, "kubelet|"+name, name, item
		f.text = name + " " + item
	}
	switch {
	case (reason == "ScalingReplicaSet" || reason == "SuccessfulCreate" || reason == "SuccessfulDelete") && r.live && r.j.v != nil:
		// Followed live, each scale is read from the ReplicaSet and each
		// pod from itself (readScales, readPods): these events fold
		// after ten similar ones and lose steps.
		return
	case reason == "ScalingReplicaSet" && scaledRE().MatchString(msg):
		m := scaledRE().FindStringSubmatch(msg)
		f.rank, f.kind = rankScale, KindScale
		if m[3] == "0" {
			f.kind = KindRollout
		}
		f.text = "scaled replicaset " + m[2] + " " + m[3] + " → " + m[4]
	case (reason == "SuccessfulCreate" || reason == "SuccessfulDelete") && podNameRE().MatchString(msg):
		pod := podNameRE().FindStringSubmatch(msg)[1]
		verb, subject := "created", pod
		if reason == "SuccessfulDelete" {
			// A pod's end is a chain of its own (deleted, stopped,
			// unserved), not ordered against its start.
			verb, subject = "deleted", pod+"~"
			f.provides = "deleted|" + pod
		}
		f.rank, f.subject, f.kind = rankPods, subject, KindPods
		f.text = verb + " pod " + pod
		f.mergeKey, f.head, f.item = verb+"|"+name, verb+" pods", pod
	case reason == "Scheduled" && assignedRE().MatchString(msg):
		m := assignedRE().FindStringSubmatch(msg)
		f.rank, f.subject, f.provides, f.kind = rankSchedule, m[1], "scheduled|"+m[1], KindSchedule
		f.text = "placed " + m[1] + " on " + m[2]
		f.mergeKey, f.head, f.item, f.tail = "placed|"+m[2], "placed", m[1], " on "+m[2]
	case reason == "FailedScheduling":
		f.rank, f.subject, f.kind = rankSchedule, name, KindUnschedulable
		f.text = "could not place " + name + ": " + msg
	case kind == "Pod" && reason == "Pulling":
		kubelet(rankPull, "pulling "+quotedImage(msg))
	case kind == "Pod" && reason == "Pulled":
		kubelet(rankPulled, "pulled")
	case kind == "Pod" && reason == "Created":
		kubelet(rankCreated, "created")
	case kind == "Pod" && reason == "Started":
		kubelet(rankStarted, "started")
	case kind == "Pod" && reason == "Killing":
		kubelet(rankStop, "stopped")
		f.subject, f.kind = name+"~", KindStop
	case kind == "Pod" && (reason == "Failed" || reason == "BackOff" || reason == "Unhealthy"):
		kubelet(rankPulled, strings.ToLower(reason)+": "+msg)
		f.kind = failureKind(reason, msg)
	default:
		f.rank = rankPods
		what := strings.ToLower(kind) + "/" + name
		f.text = what + " " + reason
		if msg != "" {
			f.text += ": " + msg
		}
	}
	r.add(f)
}

// quotedImage picks the image out of `Pulling image "nginx:1.28"`.
func quotedImage(msg string) string {
	if i := strings.IndexByte(msg, '"'); i >= 0 {
		if j := strings.IndexByte(msg[i+1:], '"'); j >= 0 {
			return msg[i+1 : i+1+j]
		}
	}
	return "the image"
}

// failureKind tells an image that cannot be pulled from a container
// that keeps exiting and a failed probe, by the kubelet's words
// (pkg/kubelet/images: "Back-off pulling image", ErrImagePull;
// kuberuntime: "Back-off restarting failed container"; prober:
// Unhealthy).
func failureKind(reason, msg string) string {
	switch {
	case reason == "Unhealthy":
		return KindProbeFailed
	case strings.Contains(msg, "pulling image") || strings.Contains(msg, "ErrImagePull") || strings.Contains(msg, "pull image"):
		return KindPullFailed
	case strings.Contains(msg, "restarting failed container"):
		return KindCrashLoop
	}
	return ""
}

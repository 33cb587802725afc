package checks_test

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"sigs.k8s.io/yaml"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/course"
)

// variantNS is where the fixtures live; the engine is pointed at it.
const variantNS = "lab-variant"

// variantListKinds are the resources the graded tasks below read.
var variantListKinds = map[schema.GroupVersionResource]string{
	{Group: "apps", Version: "v1", Resource: "deployments"}:                     "DeploymentList",
	{Group: "apps", Version: "v1", Resource: "replicasets"}:                     "ReplicaSetList",
	{Version: "v1", Resource: "pods"}:                                           "PodList",
	{Version: "v1", Resource: "services"}:                                       "ServiceList",
	{Version: "v1", Resource: "configmaps"}:                                     "ConfigMapList",
	{Version: "v1", Resource: "events"}:                                         "EventList",
	{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}:      "EndpointSliceList",
	{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}: "HorizontalPodAutoscalerList",
	{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}:          "IngressList",
	{Version: "v1", Resource: "persistentvolumeclaims"}:                         "PersistentVolumeClaimList",
	{Group: "apps", Version: "v1", Resource: "statefulsets"}:                    "StatefulSetList",
	{Group: "apps", Version: "v1", Resource: "daemonsets"}:                      "DaemonSetList",
	{Group: "batch", Version: "v1", Resource: "jobs"}:                           "JobList",
	{Version: "v1", Resource: "secrets"}:                                        "SecretList",
	{Version: "v1", Resource: "nodes"}:                                          "NodeList",
	{Version: "v1", Resource: "namespaces"}:                                     "NamespaceList",
	{Version: "v1", Resource: "persistentvolumes"}:                              "PersistentVolumeList",
	{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}:        "StorageClassList",
}

// checkOn grades one task of a built-in lab against objects given as YAML,
// written the way the API server stores them (defaults filled in,
// quantities canonical), and returns the named check's result.
func checkOn(t *testing.T, labID, taskID, checkName string, docs ...string) checks.CheckResult {
	t.Helper()
	task := taskOn(t, labID, taskID, docs...)
	var names []string
	for _, c := range task.Checks {
		if c.Name == checkName {
			return c
		}
		names = append(names, c.Name)
	}
	t.Fatalf("task %s has no check %q (it has %s)", taskID, checkName, strings.Join(names, "; "))
	return checks.CheckResult{}
}

func deploymentYAML(name string, replicas int, strategy, container string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, generation: 1}
spec:
  replicas: ` + strconv.Itoa(replicas) + `
  selector: {matchLabels: {app: ` + name + `}}
  strategy: ` + strategy + `
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      containers:
      - ` + container + `
`
}

// TestValidVariantsPass covers correct solutions that are spelled
// differently from the reference one, each of which a check once failed.
func TestValidVariantsPass(t *testing.T) {
	const rolling = `{type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}}`
	cases := []struct {
		name, lab, task, check string
		docs                   []string
		want                   checks.Status
	}{
		// The declarative lab once passed a Service of another type than
		// the goal names (#19).
		{
			name: "declarative service web as a NodePort",
			lab:  "declarative", task: "apply-files", check: "service web is a ClusterIP Service",
			docs: []string{`apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 80, protocol: TCP, nodePort: 30080}]
`},
			want: checks.Fail,
		},
		{
			name: "declarative service web as a ClusterIP",
			lab:  "declarative", task: "apply-files", check: "service web is a ClusterIP Service",
			docs: []string{`apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: ClusterIP
  selector: {app: web}
  ports: [{port: 80, targetPort: 80, protocol: TCP}]
`},
			want: checks.Pass,
		},
		// The capstone once passed a readiness probe on any path and pods
		// labelled anything (#19).
		{
			name: "capstone backend probed on / through a named port",
			lab:  "three-tier", task: "backend", check: "deployment backend runs httpd:2.4 labelled app=backend, ready-checked",
			docs: []string{deploymentYAML("backend", 2, rolling, `{name: httpd, image: httpd:2.4,
        ports: [{name: web, containerPort: 80, protocol: TCP}],
        readinessProbe: {httpGet: {path: /, port: web}}}`)},
			want: checks.Pass,
		},
		{
			name: "capstone backend probed on another path",
			lab:  "three-tier", task: "backend", check: "deployment backend runs httpd:2.4 labelled app=backend, ready-checked",
			docs: []string{deploymentYAML("backend", 2, rolling, `{name: httpd, image: httpd:2.4,
        readinessProbe: {httpGet: {path: /healthz, port: 80}}}`)},
			want: checks.Fail,
		},
		{
			name: "capstone backend pods labelled app=api",
			lab:  "three-tier", task: "backend", check: "deployment backend runs httpd:2.4 labelled app=backend, ready-checked",
			docs: []string{strings.ReplaceAll(deploymentYAML("backend", 2, rolling, `{name: httpd, image: httpd:2.4,
        readinessProbe: {httpGet: {path: /, port: 80}}}`), "{app: backend}", "{app: api}")},
			want: checks.Fail,
		},
		{
			name: "readiness probe on a named port that is 80",
			lab:  "health", task: "readiness-probe", check: "web has an HTTP readiness probe on port 80",
			docs: []string{deploymentYAML("web", 2, rolling, `{name: nginx, image: nginx:1.27,
        ports: [{name: http, containerPort: 80, protocol: TCP}],
        readinessProbe: {httpGet: {path: /, port: http, scheme: HTTP}}}`)},
			want: checks.Pass,
		},
		{
			name: "readiness probe on a named port that is not 80",
			lab:  "health", task: "readiness-probe", check: "web has an HTTP readiness probe on port 80",
			docs: []string{deploymentYAML("web", 2, rolling, `{name: nginx, image: nginx:1.27,
        ports: [{name: http, containerPort: 8080, protocol: TCP}],
        readinessProbe: {httpGet: {path: /, port: http, scheme: HTTP}}}`)},
			want: checks.Fail,
		},
		{
			name: "CPU request of report left to default from a 100m limit",
			lab:  "health", task: "fix-report", check: "the report container's request is what its author meant",
			docs: []string{deploymentYAML("report", 1, rolling, `{name: report, image: nginx:1.27,
        resources: {limits: {cpu: 100m}}}`)},
			want: checks.Pass,
		},
		{
			name: "CPU limit of 100m next to a request of 100 CPUs",
			lab:  "health", task: "fix-report", check: "the report container's request is what its author meant",
			docs: []string{deploymentYAML("report", 1, rolling, `{name: report, image: nginx:1.27,
        resources: {requests: {cpu: "100"}, limits: {cpu: 100m}}}`)},
			want: checks.Fail,
		},
		{
			name: "maxSurge left at 25%, one pod of 4",
			lab:  "rolling-updates", task: "careful-strategy", check: "web adds at most one extra pod at a time",
			docs: []string{deploymentYAML("web", 4, `{type: RollingUpdate, rollingUpdate: {maxSurge: 25%, maxUnavailable: 0}}`, `{name: nginx, image: nginx:1.26}`)},
			want: checks.Pass,
		},
		{
			name: "maxUnavailable 24%, no pod of 4",
			lab:  "rolling-updates", task: "careful-strategy", check: "web never has fewer than 4 available",
			docs: []string{deploymentYAML("web", 4, `{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 24%}}`, `{name: nginx, image: nginx:1.26}`)},
			want: checks.Pass,
		},
		{
			name: "maxSurge 26%, two pods of 4",
			lab:  "rolling-updates", task: "careful-strategy", check: "web adds at most one extra pod at a time",
			docs: []string{deploymentYAML("web", 4, `{type: RollingUpdate, rollingUpdate: {maxSurge: 26%, maxUnavailable: 0}}`, `{name: nginx, image: nginx:1.26}`)},
			want: checks.Fail,
		},
		{
			name: "maxUnavailable 25%, one pod of 4",
			lab:  "rolling-updates", task: "careful-strategy", check: "web never has fewer than 4 available",
			docs: []string{deploymentYAML("web", 4, `{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 25%}}`, `{name: nginx, image: nginx:1.26}`)},
			want: checks.Fail,
		},
		// The capstone once passed a backend or a frontend started at any
		// count from 2 up (#19). The backend is kept at 3 only with the
		// deployment controller's record of having run 2, since the
		// change-without-downtime task scales it there.
		{
			name: "capstone backend started at 3",
			lab:  "three-tier", task: "backend", check: "backend has run 2 replicas",
			docs: []string{scaledEvent("backend", 0, 3)},
			want: checks.Fail,
		},
		{
			name: "capstone backend run at 2, then scaled to 3",
			lab:  "three-tier", task: "backend", check: "backend has run 2 replicas",
			docs: []string{scaledEvent("backend", 0, 2), scaledEvent("backend", 2, 3)},
			want: checks.Pass,
		},
		{
			name: "capstone backend asking for 4",
			lab:  "three-tier", task: "backend", check: "deployment backend asks for 2 replicas",
			docs: []string{deploymentYAML("backend", 4, rolling, `{name: httpd, image: httpd:2.4}`)},
			want: checks.Fail,
		},
		{
			name: "capstone frontend at 3",
			lab:  "three-tier", task: "frontend", check: "deployment frontend runs 2 replicas of nginx:1.27, ready-checked",
			docs: []string{deploymentYAML("frontend", 3, rolling, `{name: nginx, image: nginx:1.27,
        readinessProbe: {httpGet: {path: /, port: 80}}}`)},
			want: checks.Fail,
		},
		// POSTGRES_PASSWORD from a Secret's key is the task's variable
		// too, however supplied.
		{
			name: "capstone POSTGRES_PASSWORD from a Secret",
			lab:  "three-tier", task: "database", check: "deployment db sets POSTGRES_PASSWORD",
			docs: []string{deploymentYAML("db", 1, `{type: Recreate}`, `{name: postgres, image: postgres:17,
        env: [{name: POSTGRES_PASSWORD, valueFrom: {secretKeyRef: {name: db-secret, key: password}}}]}`),
				`apiVersion: v1
kind: Secret
metadata: {name: db-secret}
data: {password: bGFiLW9ubHk=}
`},
			want: checks.Pass,
		},
		{
			name: "capstone POSTGRES_PASSWORD through envFrom a ConfigMap",
			lab:  "three-tier", task: "database", check: "deployment db sets POSTGRES_PASSWORD",
			docs: []string{deploymentYAML("db", 1, `{type: Recreate}`, `{name: postgres, image: postgres:17,
        envFrom: [{configMapRef: {name: db-env}}]}`),
				`apiVersion: v1
kind: ConfigMap
metadata: {name: db-env}
data: {POSTGRES_PASSWORD: lab-only}
`},
			want: checks.Pass,
		},
		{
			name: "image spelled docker.io/nginx:1.27",
			lab:  "kubectl-and-yaml", task: "dry-run-manifest", check: "deployment hello runs 3 replicas of nginx:1.27",
			docs: []string{deploymentYAML("hello", 3, rolling, `{name: nginx, image: docker.io/nginx:1.27}`)},
			want: checks.Pass,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := checkOn(t, c.lab, c.task, c.check, c.docs...)
			if got.Status != c.want {
				t.Errorf("%s/%s %q: status %s, want %s (messages %q)", c.lab, c.task, c.check, got.Status, c.want, got.Messages)
			}
		})
	}
}

// scaledEvent is the deployment controller's event for scaling a
// Deployment's ReplicaSet up from one count to another.
func scaledEvent(deployment string, from, to int) string {
	return `apiVersion: v1
kind: Event
metadata: {name: ` + deployment + `.` + strconv.Itoa(from) + `-` + strconv.Itoa(to) + `}
involvedObject: {kind: Deployment, name: ` + deployment + `}
reason: ScalingReplicaSet
type: Normal
message: Scaled up replica set ` + deployment + `-5d8f7c9b4 from ` + strconv.Itoa(from) + ` to ` + strconv.Itoa(to) + `
`
}

// setupWithout is a lab's setup as YAML documents, without the objects
// named "Kind/name" in drop: the state a learner's deletion leaves.
func setupWithout(t *testing.T, labID string, drop ...string) []string {
	t.Helper()
	lab, err := course.LoadLab(assets.Course(), labID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, doc := range strings.Split(lab.Setup, "\n---\n") {
		var head struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(drop, head.Kind+"/"+head.Metadata.Name) {
			out = append(out, doc)
		}
	}
	return out
}

// taskOn grades one task of a built-in lab against objects given as YAML.
func taskOn(t *testing.T, labID, taskID string, docs ...string) checks.TaskResult {
	t.Helper()
	lab, err := course.LoadLab(assets.Course(), labID)
	if err != nil {
		t.Fatal(err)
	}
	var objs []runtime.Object
	for _, doc := range docs {
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
		u.SetNamespace(variantNS)
		objs = append(objs, u)
	}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), variantListKinds, objs...)
	res := checks.NewEngine(client).Evaluate(context.Background(), lab, checks.Options{Namespace: variantNS, Tasks: []string{taskID}})
	if len(res.Tasks) != 1 {
		t.Fatalf("lab %s has no task %s", labID, taskID)
	}
	return res.Tasks[0]
}

// A deleted object is one fact, said once: the check that tells why
// deleting it is no fix and the check that merely finds it missing used
// to give the learner two bullets for it (#22 item 16).
func TestDeletedObjectSaidOnce(t *testing.T) {
	for _, c := range []struct{ lab, task, drop, subject string }{
		{"fix-traffic", "no-endpoints", "Service/shop", "service shop"},
		{"fix-workloads", "crashing-db", "Deployment/db", "deployment db"},
		{"fix-workloads", "missing-key", "Deployment/api", "deployment api"},
	} {
		r := taskOn(t, c.lab, c.task, setupWithout(t, c.lab, c.drop)...)
		var about []string
		for _, m := range r.Problems() {
			if strings.Contains(m, c.subject+" ") {
				about = append(about, m)
			}
		}
		if len(about) != 1 || !strings.Contains(about[0], "is gone") {
			t.Errorf("%s/%s with %s deleted: want one message that %s is gone, got %q", c.lab, c.task, c.drop, c.subject, about)
		}
	}
}

// In the troubleshooting tasks finding the cause is the task, so what the
// learner is told about the broken state the lab starts in says what is
// wrong from the outside and where to look, never the fix (#22 item 11).
// The lab screen lists every task's first message, so this holds for a
// later task too (the rescue of report must not answer the question
// before it).
func TestInvestigationsKeepTheirAnswer(t *testing.T) {
	for _, c := range []struct {
		lab, task string
		answer    *regexp.Regexp
	}{
		{"fix-traffic", "no-endpoints", regexp.MustCompile(`app=shop([^-]|$)|set selector`)},
		{"fix-traffic", "not-ready", regexp.MustCompile(`\b80\b`)},
		{"fix-workloads", "crashing-db", regexp.MustCompile(`POSTGRES_PASSWORD|set env|secretKeyRef`)},
		{"fix-workloads", "image-pull", regexp.MustCompile(`set image`)},
		{"fix-workloads", "pending", regexp.MustCompile(`nodeSelector|node-role`)},
		{"fix-workloads", "missing-key", regexp.MustCompile(`log_level`)},
		{"health", "fix-report", regexp.MustCompile(`(?i)cpu`)},
		{"services", "fix-selector", regexp.MustCompile(`app=api([^-]|$)`)},
	} {
		r := taskOn(t, c.lab, c.task, setupWithout(t, c.lab)...)
		if r.Status == checks.Pass {
			t.Errorf("%s/%s passes on its setup", c.lab, c.task)
		}
		said := map[string]string{}
		for _, m := range r.Problems() {
			if c.answer.MatchString(m) {
				t.Errorf("%s/%s, as the lab starts, gives the answer away (%s): %q", c.lab, c.task, c.answer, m)
			}
			// Two messages that open with the same clause say one fact
			// twice ("service shop selects app=shop-web, ...").
			clause, _, _ := strings.Cut(strings.SplitN(m, ":", 2)[0], ",")
			if before, ok := said[clause]; ok {
				t.Errorf("%s/%s, as the lab starts, says %q twice:\n%s\n%s", c.lab, c.task, clause, before, m)
			}
			said[clause] = m
		}
	}
}

// After 'kubectl scale' to 6, the declarative lab's undo-drift task tells
// the learner to apply web.yaml unchanged; no other message of the task
// may tell them to change the file (#22 item 10: "make replicas in your
// file the count you want" came with "apply web.yaml unchanged").
func TestScaledByHandMessagesAgree(t *testing.T) {
	scaled := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  generation: 2
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":4}}'
  managedFields:
  - {manager: kubectl-client-side-apply, operation: Update, apiVersion: apps/v1, time: "2026-01-01T10:00:00Z", fieldsType: FieldsV1,
     fieldsV1: {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}, "f:spec": {"f:replicas": {}}}}
  - {manager: kubectl, operation: Update, subresource: scale, apiVersion: apps/v1, time: "2026-01-01T10:05:00Z", fieldsType: FieldsV1,
     fieldsV1: {"f:spec": {"f:replicas": {}}}}
spec:
  replicas: 6
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: nginx:1.27}]}
status: {observedGeneration: 2, replicas: 6, readyReplicas: 6, updatedReplicas: 6, availableReplicas: 6}
`
	r := taskOn(t, "declarative", "undo-drift", scaled, scaledEvent("web", 4, 6))
	all := strings.Join(r.Problems(), "\n")
	if !strings.Contains(all, "unchanged") {
		t.Fatalf("the task no longer says to apply web.yaml unchanged:\n%s", all)
	}
	for _, m := range r.Problems() {
		if regexp.MustCompile(`(?i)\b(make|change|set) (replicas|the same change)`).MatchString(m) {
			t.Errorf("a message asks to change the file, against 'apply web.yaml unchanged': %q", m)
		}
	}
	// Applied back to 4, the controller is still removing two pods:
	// waiting is right, and the message says what is going.
	back := strings.NewReplacer("replicas: 6\n", "replicas: 4\n", "generation: 2", "generation: 3", "observedGeneration: 2", "observedGeneration: 3",
		`time: "2026-01-01T10:00:00Z"`, `time: "2026-01-01T10:09:00Z"`,
		// The apply took replicas back from the scale's manager.
		`  - {manager: kubectl, operation: Update, subresource: scale, apiVersion: apps/v1, time: "2026-01-01T10:05:00Z", fieldsType: FieldsV1,
     fieldsV1: {"f:spec": {"f:replicas": {}}}}
`, "").Replace(scaled)
	r = taskOn(t, "declarative", "undo-drift", back, scaledEvent("web", 4, 6))
	if got := strings.Join(r.Problems(), "\n"); !r.Settling || got != "deployment web still has 6 pods; the ReplicaSet controller is removing the ones beyond 4" {
		t.Errorf("applied back to 4 with 6 pods left: settling %v, %q", r.Settling, got)
	}
}

// rolledOut is the lab's setup with deployment name made by the
// controllers as far as a ReplicaSet and one pod, whose container is in
// waiting state reason: what a broken workload of a troubleshooting lab
// looks like a minute after the lab starts.
func rolledOut(t *testing.T, labID, name, reason string) []string {
	t.Helper()
	var out []string
	for _, doc := range setupWithout(t, labID) {
		u := &unstructured.Unstructured{}
		js, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		if err := u.UnmarshalJSON(js); err != nil {
			t.Fatal(err)
		}
		if u.GetKind() != "Deployment" || u.GetName() != name {
			out = append(out, doc)
			continue
		}
		u.SetUID("uid-d")
		u.SetGeneration(1)
		replicas, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		_ = unstructured.SetNestedMap(u.Object, map[string]any{"observedGeneration": int64(1), "replicas": replicas, "updatedReplicas": replicas}, "status")
		tmpl, _, _ := unstructured.NestedMap(u.Object, "spec", "template")
		rs := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet",
			"metadata": map[string]any{"name": name + "-abc", "uid": "uid-rs",
				"annotations":     map[string]any{"deployment.kubernetes.io/revision": "1"},
				"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "uid": "uid-d", "controller": true}}},
			"spec": map[string]any{"replicas": replicas, "template": tmpl}}}
		pod := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": name + "-abc-1", "uid": "uid-p", "labels": map[string]any{"app": name},
				"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name + "-abc", "uid": "uid-rs", "controller": true}}},
			"spec": tmpl["spec"],
			"status": map[string]any{"phase": "Pending", "conditions": []any{map[string]any{"type": "Ready", "status": "False"}},
				"containerStatuses": []any{map[string]any{"name": "c", "image": "x", "imageID": "", "ready": false, "restartCount": int64(3),
					"state": map[string]any{"waiting": map[string]any{"reason": reason}}}}}}}
		for _, o := range []*unstructured.Unstructured{u, rs, pod} {
			b, err := yaml.Marshal(o.Object)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
	}
	return out
}

// A pod stuck in a state the kubelet reports is one fact: fix-workloads
// had a check of its own for each such state beside the rollout's, and
// the learner read "keeps crashing" twice (#22 item 16).
func TestStuckPodSaidOnce(t *testing.T) {
	for _, c := range []struct{ task, deployment, reason string }{
		{"crashing-db", "db", "CrashLoopBackOff"},
		{"image-pull", "web", "ImagePullBackOff"},
		{"missing-key", "api", "CreateContainerConfigError"},
	} {
		r := taskOn(t, "fix-workloads", c.task, rolledOut(t, "fix-workloads", c.deployment, c.reason)...)
		var about []string
		for _, m := range r.Problems() {
			if strings.Contains(m, c.reason) {
				about = append(about, m)
			}
		}
		if len(about) != 1 {
			t.Errorf("%s with its pod in %s: want it said once, got %q", c.task, c.reason, about)
		}
	}
}

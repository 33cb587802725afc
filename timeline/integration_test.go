package timeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/timeline"
)

// simLab is a namespace on a simulated cluster (real API server,
// controllers and scheduler; kwok's kubelets) with the live timeline
// following it as the lab screen does.
type simLab struct {
	ns, kubeconfig string
	client         dynamic.Interface
	updates        chan []timeline.Action
	last           []timeline.Action
}

func startSimLab(t *testing.T) *simLab {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, dir := clustertest.Start(t, "k8slab-timeline")
	cfg, err := clusterctl.RESTConfig(p.KubeconfigPath(), "")
	if err != nil {
		t.Fatal(err)
	}
	client := dynamic.NewForConfigOrDie(cfg)
	ns := "lab-timeline"
	ctx := context.Background()
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := client.Resource(kube.NamespacesGVR).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(dir, ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(p.KubeconfigPath(), "", ns, kc); err != nil {
		t.Fatal(err)
	}
	cache, err := clustercache.NewForConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cache.Close)
	l := &simLab{ns: ns, kubeconfig: kc, client: client, updates: make(chan []timeline.Action, 1)}
	fctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- timeline.Follow(fctx, cache, ns, 0, func(acts []timeline.Action) {
			select {
			case <-l.updates:
			default:
			}
			l.updates <- acts
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Follow: %v", err)
		}
	})
	return l
}

func (l *simLab) kubectl(t *testing.T, cmd string) {
	t.Helper()
	if err := labenv.RunStep(context.Background(), l.client, l.kubeconfig, l.ns, labfile.Step{Run: cmd}); err != nil {
		t.Fatal(err)
	}
}

// await waits for a timeline update that ok accepts and returns that
// update's last action. The bound only turns a hang into a failure.
func (l *simLab) await(t *testing.T, what string, ok func(timeline.Action) bool) timeline.Action {
	t.Helper()
	bound := time.After(3 * time.Minute)
	for {
		select {
		case acts := <-l.updates:
			l.last = acts
			if len(acts) > 0 && ok(acts[len(acts)-1]) {
				return acts[len(acts)-1]
			}
		case <-bound:
			var b strings.Builder
			_ = timeline.WriteText(&b, l.last, time.UTC)
			t.Fatalf("timeline never showed %s; last:\n%s", what, b.String())
		}
	}
}

// has counts the steps whose line contains s.
func has(a timeline.Action, s string) int {
	n := 0
	for _, st := range a.Steps {
		n += strings.Count(timeline.StepLine(st), s)
	}
	return n
}

var (
	podRE  = regexp.MustCompile(`\bweb-[0-9a-f]{6,10}-[0-9a-z]{5}\b`)
	rsRE   = regexp.MustCompile(`\bweb-[0-9a-f]{6,10}\b`)
	ipRE   = regexp.MustCompile(`\b\d+\.\d+\.\d+\.\d+\b`)
	nodeRE = regexp.MustCompile(`\bk8slab-timeline[-a-z0-9]*`)
)

// golden writes an action the way its order is causal, not the way the
// clocks interleave it: the action, the steps about no single pod in
// order (scaling), then each pod's own chain of steps. Pod, ReplicaSet,
// node names and addresses are numbered in order of appearance; equal
// chains are counted, not repeated.
func golden(a timeline.Action) string {
	names := map[string]string{}
	name := func(re *regexp.Regexp, prefix string, s string) string {
		return re.ReplaceAllStringFunc(s, func(m string) string {
			if n, ok := names[m]; ok {
				return n
			}
			n := 0
			for k := range names {
				if strings.HasPrefix(names[k], prefix) {
					n++
				}
			}
			names[m] = fmt.Sprintf("%s%d", prefix, n+1)
			return names[m]
		})
	}
	norm := func(s string) string {
		s = name(podRE, "POD", s)
		s = name(rsRE, "RS", s)
		s = ipRE.ReplaceAllString(s, "IP")
		return nodeRE.ReplaceAllString(s, "NODE")
	}
	var b strings.Builder
	b.WriteString(a.Actor + " " + norm(a.Text) + "\n")
	chains := map[string][]string{}
	var order []string
	podTok := regexp.MustCompile(`POD\d+`)
	for _, st := range a.Steps {
		line := norm(st.Actor + ": " + st.Text)
		pods := podTok.FindAllString(line, -1)
		if len(pods) == 0 {
			b.WriteString("  " + line + "\n")
			continue
		}
		actor, text, _ := strings.Cut(line, ": ")
		for _, p := range pods {
			if _, ok := chains[p]; !ok {
				order = append(order, p)
			}
			var items []string
			switch {
			case strings.HasPrefix(actor, "kubelet"):
				// "POD1 pulled, created, started": one item each.
				rest := strings.TrimPrefix(text, p+" ")
				for _, it := range strings.Split(rest, ", ") {
					items = append(items, actor+": "+it)
				}
			default:
				verb, _, _ := strings.Cut(text, " ")
				tail := ""
				if i := strings.Index(text, " to service "); i >= 0 {
					tail = text[i:]
				} else if i := strings.Index(text, " from service "); i >= 0 {
					tail = text[i:]
				}
				items = append(items, actor+": "+verb+tail)
			}
			chains[p] = append(chains[p], items...)
		}
	}
	count := map[string]int{}
	for _, p := range order {
		count[strings.Join(chains[p], " → ")]++
	}
	var keys []string
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %d× %s\n", count[k], k)
	}
	return b.String()
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n--- want\n%s--- got\n%s", name, want, got)
	}
}

// The timeline of each change a learner makes to a Deployment, on real
// controllers: what each wrote, in causal order.
func TestTimelineOnSimulatedCluster(t *testing.T) {
	l := startSimLab(t)

	l.kubectl(t, "kubectl create deployment web --image=nginx:1.27 --replicas=3")
	l.kubectl(t, "kubectl expose deployment web --port=80")
	l.await(t, "the service's three endpoints", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "service/web") && countAddrs(a) == 3
	})

	l.kubectl(t, "kubectl scale deployment web --replicas=5")
	a := l.await(t, "the scale to 5 served", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "replicas 3 → 5") && countAddrs(a) == 2
	})
	t.Logf("scale:\n%s", golden(a))
	checkGolden(t, "scale", golden(a))

	l.kubectl(t, "kubectl set image deployment/web nginx=nginx:1.28")
	a = l.await(t, "the rolling update done", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "image nginx:1.27 → nginx:1.28") && countAddrs(a) == 5 && countRemoved(a) == 5
	})
	checkGolden(t, "set-image", golden(a))

	l.kubectl(t, "kubectl rollout undo deployment/web")
	a = l.await(t, "the rollback done", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "image nginx:1.28 → nginx:1.27") && countAddrs(a) == 5 && countRemoved(a) == 5
	})
	checkGolden(t, "rollout-undo", golden(a))

	pods := podNames(t, l)
	l.kubectl(t, "kubectl delete pod "+pods[0]+" --wait=false")
	a = l.await(t, "the deleted pod replaced and served", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "deleted pod "+pods[0]) && countAddrs(a) == 1 && countRemoved(a) == 1
	})
	checkGolden(t, "delete-pod", golden(a))

	l.kubectl(t, "kubectl set image deployment/web nginx=nginx:1.277")
	a = l.await(t, "the failed pull", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "image nginx:1.27 → nginx:1.277") && has(a, "backoff:") >= 1
	})
	if has(a, "failed: ") == 0 || has(a, "ErrImagePull") == 0 {
		t.Errorf("the failed pull does not say ErrImagePull:\n%s", golden(a))
	}
	if countAddrs(a) != 0 || countRemoved(a) != 0 {
		t.Errorf("a rollout that cannot pull changed the endpoints:\n%s", golden(a))
	}
}

func stepsText(a timeline.Action) string {
	var b strings.Builder
	for _, s := range a.Steps {
		b.WriteString(s.Text + "\n")
	}
	return b.String()
}

// countAddrs counts the addresses the endpointslice controller added.
func countAddrs(a timeline.Action) int {
	return countEndpoints(a, "added ")
}

func countRemoved(a timeline.Action) int {
	return countEndpoints(a, "removed ")
}

func countEndpoints(a timeline.Action, verb string) int {
	n := 0
	for _, s := range a.Steps {
		if s.Actor == "endpointslice controller" && strings.HasPrefix(s.Text, verb) {
			n += len(ipRE.FindAllString(s.Text, -1))
		}
	}
	return n
}

func podNames(t *testing.T, l *simLab) []string {
	t.Helper()
	list, err := l.client.Resource(kube.PodsGVR).Namespace(l.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range list.Items {
		if p.GetDeletionTimestamp() == nil {
			out = append(out, p.GetName())
		}
	}
	sort.Strings(out)
	return out
}

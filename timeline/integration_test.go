package timeline_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
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

// shared is the one simulated cluster of this package's tests, started
// by the first test that needs it and deleted by TestMain: -count=20
// runs the tests twenty times on it, each in a namespace of its own.
var shared struct {
	once       sync.Once
	err        error
	skip       string
	kubeconfig string
	down       func()
	runs       int
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.down != nil {
		shared.down()
	}
	os.Exit(code)
}

func sharedCluster(t *testing.T) string {
	t.Helper()
	shared.once.Do(func() {
		dir := clusterctl.SimBinDir()
		if !clusterctl.HasSimBinaries(dir) {
			shared.skip = "simulator binaries not in " + dir + "; run 'make sim'"
			if os.Getenv("CI") != "" {
				shared.err = fmt.Errorf("%s", shared.skip)
			}
			return
		}
		state, err := os.MkdirTemp("", "k8slab-timeline-")
		if err != nil {
			shared.err = err
			return
		}
		p, err := clusterctl.NewSim(clusterctl.Config{Name: "k8slab-timeline", StateDir: state, CacheDir: state, SimBinDir: dir, SimInstant: true})
		if err != nil {
			shared.err = err
			return
		}
		records := clusterctl.NewRecords(state)
		shared.down = func() {
			_ = clusterctl.Down(context.Background(), p, records, nil)
			_ = os.RemoveAll(state)
		}
		ctx, cancel := context.WithTimeout(context.Background(), clustertest.UpTimeout)
		defer cancel()
		if err := clusterctl.Up(ctx, p, records, nil); err != nil {
			shared.err = fmt.Errorf("starting a simulated cluster: %w", err)
			return
		}
		shared.kubeconfig = p.KubeconfigPath()
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	if shared.skip != "" {
		t.Skip(shared.skip)
	}
	clustertest.BinDir(t) // kubectl on PATH
	return shared.kubeconfig
}

func startSimLab(t *testing.T) *simLab {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	kubeconfig := sharedCluster(t)
	cfg, err := clusterctl.RESTConfig(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	client := dynamic.NewForConfigOrDie(cfg)
	shared.runs++
	ns := fmt.Sprintf("lab-timeline-%d", shared.runs)
	ctx := context.Background()
	nsObj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": ns}}}
	if _, err := client.Resource(kube.NamespacesGVR).Create(ctx, nsObj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = client.Resource(kube.NamespacesGVR).Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	kc := filepath.Join(t.TempDir(), ns+".kubeconfig")
	if err := clusterctl.WriteNamespacedKubeconfig(kubeconfig, "", ns, kc); err != nil {
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
// update's last action. Each watch delivers on its own, so ok must ask
// for every step a golden holds (a pod's endpoint may be seen before its
// ready condition). The bound only turns a hang into a failure.
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

// awaitGolden waits until the last action is done by ok and holds every
// step of golden name. ok alone is not enough: each resource has its own
// watch, and one can deliver what a later version says (the endpoint of a
// pod removed) before another delivers what came first (that pod marked
// deleting), so an update can be done by ok with a step still on its way.
// The steps are decided by the watches' deliveries, not by when the test
// looks; what the timeline showed on the way is logged.
func (l *simLab) awaitGolden(t *testing.T, name, what string, ok func(timeline.Action) bool) {
	t.Helper()
	if os.Getenv("UPDATE_GOLDEN") != "" {
		checkGolden(t, name, golden(l.await(t, what, ok)))
		return
	}
	want, err := os.ReadFile(filepath.Join("testdata", name+".golden"))
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	var got string
	bound := time.After(3 * time.Minute)
	for {
		select {
		case acts := <-l.updates:
			l.last = acts
			if len(acts) == 0 || !ok(acts[len(acts)-1]) {
				continue
			}
			g := golden(acts[len(acts)-1])
			if g == string(want) {
				return
			}
			if g != got {
				var b strings.Builder
				_ = timeline.WriteText(&b, acts[max(0, len(acts)-2):], time.UTC)
				t.Logf("%s: done by its counts but not all steps in yet:\n%s(the timeline's last two actions:)\n%s", name, g, b.String())
			}
			got = g
		case <-bound:
			t.Fatalf("timeline never showed %s as %s.golden has it:\n--- want\n%s--- last\n%s", what, name, want, got)
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
	// scaledRE reads a normalised scaling step.
	scaledRE = regexp.MustCompile(`^deployment controller: scaled replicaset (RS\d+) (\d+) → (\d+)$`)
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
	scaled := map[string][2]string{}
	var scaledOrder []string
	podTok := regexp.MustCompile(`POD\d+`)
	for _, st := range a.Steps {
		line := norm(st.Actor + ": " + st.Text)
		pods := podTok.FindAllString(line, -1)
		if len(pods) == 0 {
			if m := scaledRE.FindStringSubmatch(line); m != nil {
				// How many steps a rolling update takes depends on
				// when pods become ready; where each ReplicaSet
				// starts and ends does not.
				if _, ok := scaled[m[1]]; !ok {
					scaledOrder = append(scaledOrder, m[1])
					scaled[m[1]] = [2]string{m[2], m[3]}
				}
				scaled[m[1]] = [2]string{scaled[m[1]][0], m[3]}
				continue
			}
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
	for _, rs := range scaledOrder {
		fmt.Fprintf(&b, "  deployment controller: scaled replicaset %s %s → %s\n", rs, scaled[rs][0], scaled[rs][1])
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
	l.awaitGolden(t, "scale", "the scale to 5 served", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "replicas 3 → 5") && countAddrs(a) == 2 && has(a, "started") == 2 && has(a, "ready") == 2
	})

	l.kubectl(t, "kubectl set image deployment/web nginx=nginx:1.28")
	l.awaitGolden(t, "set-image", "the rolling update done", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "image nginx:1.27 → nginx:1.28") && settled(a, 5)
	})

	l.kubectl(t, "kubectl rollout undo deployment/web")
	l.awaitGolden(t, "rollout-undo", "the rollback done", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "image nginx:1.28 → nginx:1.27") && settled(a, 5)
	})

	pods := podNames(t, l)
	l.kubectl(t, "kubectl delete pod "+pods[0]+" --wait=false")
	l.awaitGolden(t, "delete-pod", "the deleted pod replaced and served", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "deleted pod "+pods[0]) && countAddrs(a) == 1 && countRemoved(a) == 1 && has(a, "started") == 1 && has(a, "ready") == 1
	})

	l.kubectl(t, "kubectl set image deployment/web nginx=nginx:1.277")
	a := l.await(t, "the failed pull", func(a timeline.Action) bool {
		return strings.Contains(a.Text, "image nginx:1.27 → nginx:1.277") && has(a, "backoff:") >= 1 && has(a, "ErrImagePull") >= 1
	})
	if has(a, "started") != 0 || countAddrs(a) != 0 {
		t.Errorf("a pod that cannot pull its image started or was served:\n%s", golden(a))
	}

	// 'lab explain' reads the same namespace once, after the fact. The
	// cluster keeps less than the live timeline saw: a record's time
	// moves when a later write takes fields from it, and similar events
	// are folded into one whose message is the latest.
	state, err := timeline.Read(context.Background(), clustercache.NewSnapshot(l.client, nil), l.ns)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := timeline.WriteText(&b, timeline.Explain(state, 0), time.UTC); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d you \(kubectl-create\) created deployment/web$`),
		regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d you \(kubectl-expose\) created service/web$`),
		regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d you \(kubectl-set\) set deployment/web image \(now nginx:1\.277\)$`),
		regexp.MustCompile(`pulling nginx:1\.277`),
		regexp.MustCompile(`Error: ErrImagePull`),
	} {
		if !want.MatchString(text) {
			t.Errorf("lab explain lacks %s:\n%s", want, text)
		}
	}
}

// settled is a rolling update of n pods done: n new pods started, ready
// and served, n old ones unserved, the old ReplicaSet at zero.
func settled(a timeline.Action, n int) bool {
	return has(a, "started") == n && has(a, "ready") == n && countAddrs(a) == n && countRemoved(a) == n && has(a, " → 0") >= 1
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

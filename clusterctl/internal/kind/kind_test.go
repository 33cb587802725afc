package kind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/k8slab/k8slab/clusterctl/enginetest"
	"github.com/k8slab/k8slab/clusterctl/internal/engine"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"sigs.k8s.io/kind/pkg/apis/config/defaults"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kinderrors "sigs.k8s.io/kind/pkg/errors"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/kind/pkg/log"
)

// fixture reads a captured kind CLI output from testdata (see
// clusterctl/internal/engine/testdata/README.md for how each was made).
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustProblem(t *testing.T, err error, sentinel error) *problem.Problem {
	t.Helper()
	if err == nil {
		t.Fatal("got no error, want a Problem")
	}
	p, ok := errors.AsType[*problem.Problem](err)
	if !ok {
		t.Fatalf("error is %T, not a *problem.Problem: %v", err, err)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("error does not wrap %v: %v", sentinel, err)
	}
	return p
}

func assertContains(t *testing.T, what, text string, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(text, w) {
			t.Errorf("%s does not mention %q:\n%s", what, w, text)
		}
	}
}

func TestKindConfig(t *testing.T) {
	cfg := config(Options{})
	if cfg.Name != DefaultClusterName {
		t.Errorf("Name = %q, want %q", cfg.Name, DefaultClusterName)
	}
	if cfg.APIVersion != "kind.x-k8s.io/v1alpha4" || cfg.Kind != "Cluster" {
		t.Errorf("TypeMeta = %+v", cfg.TypeMeta)
	}
	wantRoles := []v1alpha4.NodeRole{v1alpha4.ControlPlaneRole, v1alpha4.WorkerRole, v1alpha4.WorkerRole}
	if len(cfg.Nodes) != len(wantRoles) {
		t.Fatalf("%d nodes, want %d", len(cfg.Nodes), len(wantRoles))
	}
	for i, n := range cfg.Nodes {
		if n.Role != wantRoles[i] {
			t.Errorf("node %d role = %q, want %q", i, n.Role, wantRoles[i])
		}
		if n.Image != DefaultNodeImage {
			t.Errorf("node %d image = %q, want the pinned default", i, n.Image)
		}
		if i > 0 && len(n.ExtraPortMappings) != 0 {
			t.Errorf("worker %d publishes ports: %+v", i, n.ExtraPortMappings)
		}
	}
	want := v1alpha4.PortMapping{ContainerPort: 30080, HostPort: 30080, ListenAddress: "127.0.0.1", Protocol: v1alpha4.PortMappingProtocolTCP}
	if pm := cfg.Nodes[0].ExtraPortMappings; len(pm) != 1 || pm[0] != want {
		t.Errorf("control-plane port mappings = %+v, want [%+v]", pm, want)
	}

	custom := config(Options{Name: "lab2", NodeImage: "kindest/node:v1.36.1"})
	if custom.Name != "lab2" {
		t.Errorf("Name = %q, want lab2", custom.Name)
	}
	for i, n := range custom.Nodes {
		if n.Image != "kindest/node:v1.36.1" {
			t.Errorf("node %d image = %q, want the override", i, n.Image)
		}
	}

	// Leader election that survives a loaded machine, always; on cgroup v2
	// nothing else.
	if p := cfg.KubeadmConfigPatches; len(p) != 1 || !strings.Contains(p[0], "kind: ClusterConfiguration") ||
		strings.Count(p[0], `leader-elect-renew-deadline: "40s"`) != 2 || strings.Contains(p[0], "leader-elect:") {
		t.Errorf("on cgroup v2 the patches are %q, want only longer leases for the controller manager and the scheduler", p)
	}
	// On cgroup v1 every node's kubelet must be told not to refuse it.
	v1 := config(Options{cgroupV1: true})
	if p := v1.KubeadmConfigPatches; len(p) != 2 || !strings.Contains(p[1], "kind: KubeletConfiguration") ||
		!strings.Contains(p[1], "apiVersion: kubelet.config.k8s.io/v1beta1") || !strings.Contains(p[1], "failCgroupV1: false") {
		t.Errorf("on cgroup v1 the patches are %q, want also a KubeletConfiguration with failCgroupV1: false", p)
	}

	// kind fills in defaults in place; each call must start afresh.
	if config(Options{}) == cfg || &config(Options{}).Nodes[0] == &cfg.Nodes[0] {
		t.Error("config shares state between calls")
	}
}

func TestDefaultKindNodeImage(t *testing.T) {
	// Bumping kind should bump the pin with it: kind supports its own
	// default image best.
	if DefaultNodeImage != defaults.Image {
		t.Errorf("DefaultNodeImage = %q, kind's default is %q", DefaultNodeImage, defaults.Image)
	}
	if !strings.Contains(DefaultNodeImage, "@sha256:") {
		t.Errorf("DefaultNodeImage %q is not pinned by digest", DefaultNodeImage)
	}
}

func TestNewKindValidation(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "kind.kubeconfig")
	ok := Options{KubeconfigPath: kc, Engine: engine.Docker}

	p, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != "kind" || p.ClusterName() != DefaultClusterName || p.KubeconfigPath() != kc {
		t.Errorf("got %q %q %q", p.Name(), p.ClusterName(), p.KubeconfigPath())
	}
	if p.opts.NodeImage != DefaultNodeImage {
		t.Errorf("NodeImage = %q, want the default", p.opts.NodeImage)
	}

	longest := strings.Repeat("a", maxKindNameLen)
	for _, name := range []string{"k8slab", "lab-2", "0x", "a", longest} {
		o := ok
		o.Name = name
		if _, err := New(o); err != nil {
			t.Errorf("name %q: %v", name, err)
		}
	}
	for _, name := range []string{"K8slab", "-lab", "lab-", "lab_2", "lab.2", "lab 2", "läb", longest + "a"} {
		o := ok
		o.Name = name
		_, err := New(o)
		p := mustProblem(t, err, nil)
		assertContains(t, "Summary", p.Summary, fmt.Sprintf("%q", name), "DNS label", "49 characters", "lowercase letters, digits and '-'")
	}

	rel := ok
	rel.KubeconfigPath = "rel/kind.kubeconfig"
	if p, err := New(rel); err != nil || !filepath.IsAbs(p.KubeconfigPath()) {
		t.Errorf("relative kubeconfig path: %v", err)
	}

	for name, o := range map[string]Options{
		"no kubeconfig path":       {Engine: engine.Docker},
		"kubeconfig is a dir":      {KubeconfigPath: dir, Engine: engine.Docker},
		"no engine":                {KubeconfigPath: kc},
		"unknown engine":           {KubeconfigPath: kc, Engine: "lxc"},
		"image with a space":       {KubeconfigPath: kc, Engine: engine.Docker, NodeImage: "kindest/node v1"},
		"engine in the wrong case": {KubeconfigPath: kc, Engine: "Docker"},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}

// kindErrorFixture rebuilds the error kind's library returned from what
// the kind CLI printed for it: the ERROR line is the error's text, and
// "Command Output" is the exec.RunError's Output.
func kindErrorFixture(t *testing.T, name string) error {
	t.Helper()
	raw := fixture(t, name)
	_, after, ok := strings.Cut(raw, "ERROR: ")
	if !ok {
		t.Fatalf("%s has no ERROR line", name)
	}
	chain, output, _ := strings.Cut(after, "\n\nCommand Output: ")
	chain = strings.TrimRight(chain, "\n")
	output = strings.TrimSuffix(output, "\n")
	// The CLI adds these; the library's error starts after them.
	chain = strings.TrimPrefix(chain, "failed to create cluster: ")
	chain = strings.TrimPrefix(chain, `failed to delete cluster "k8slab": `)

	prefix, rest, isCommand := strings.Cut(chain, `command "`)
	if !isCommand {
		return kinderrors.New(chain)
	}
	const failed = `" failed with error: `
	i := strings.LastIndex(rest, failed)
	if i < 0 {
		t.Fatalf("%s: cannot parse %q", name, chain)
	}
	command, innerText := shellWords(t, rest[:i]), rest[i+len(failed):]
	inner := errors.New(innerText)
	if strings.Contains(innerText, "executable file not found") {
		inner = &osexec.Error{Name: command[0], Err: osexec.ErrNotFound}
	}
	err := kinderrors.WithStack(&kindexec.RunError{Command: command, Output: []byte(output), Inner: inner})
	if prefix = strings.TrimSuffix(prefix, ": "); prefix != "" {
		err = kinderrors.Wrap(err, prefix)
	}
	if err.Error() != chain {
		t.Fatalf("%s: rebuilt error reads\n%s\nkind printed\n%s", name, err, chain)
	}
	return err
}

// shellWords undoes kind's exec.PrettyCommand, which single-quotes
// arguments with shell metacharacters.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestTranslateKindError(t *testing.T) {
	tests := []struct {
		fixture  string
		engine   string
		sentinel error
		summary  []string
		fix      []string
	}{
		// Captured from the real kind CLI on the build machine.
		{"kind-create-engine-down.txt", engine.Docker, problem.ErrEngineNotRunning,
			[]string{"Docker is installed", "not running", "Cannot connect to the Docker daemon"},
			[]string{"start Docker", "--provider sim"}},
		{"kind-create-permission-denied.txt", engine.Docker, problem.ErrEngineNotRunning,
			[]string{"not allowed", "permission denied"},
			[]string{"usermod -aG docker"}},
		{"kind-create-no-docker-cli.txt", engine.Docker, problem.ErrNoEngine,
			[]string{"no container engine found", "docker"},
			[]string{"install Docker", "--provider sim"}},
		{"kind-get-clusters-engine-down.txt", engine.Docker, problem.ErrEngineNotRunning,
			[]string{"not running"}, []string{"start Docker"}},
		{"kind-delete-engine-down.txt", engine.Docker, problem.ErrEngineNotRunning,
			[]string{"not running"}, []string{"start Docker"}},

		{"kind-create-already-exists.txt", engine.Docker, nil,
			[]string{`"k8slab" already exists`},
			[]string{"delete it", "docker ps -a --filter label=io.x-k8s.kind.cluster=k8slab", "docker rm -f", "another name"}},
		{"kind-create-container-name-in-use.txt", engine.Docker, nil,
			[]string{"already exists"}, []string{"docker rm -f"}},
		{"kind-create-port-in-use.txt", engine.Docker, nil,
			[]string{"port 30080", "already in use", "http://127.0.0.1:30080"},
			[]string{"lsof -i :30080", "docker ps"}},
		{"kind-create-no-space.txt", engine.Docker, nil,
			[]string{"out of disk space"},
			[]string{"docker system prune", "docker system df"}},
		{"kind-create-out-of-memory.txt", engine.Docker, nil,
			[]string{"ran out of memory"},
			[]string{"more memory", "Docker Desktop", "--provider sim"}},
		{"kind-create-kubelet-unhealthy.txt", engine.Docker, nil,
			[]string{"control plane did not start", "(kubeadm: error execution phase wait-control-plane: failed while waiting for the kubelet to start"},
			[]string{"memory", "disk", "docker system prune"}},
		{"kind-create-pull-offline.txt", engine.Docker, problem.ErrNodeImagePull,
			[]string{"could not download the node image", DefaultNodeImage, "cannot be reached"},
			[]string{"internet connection", "proxy", "--provider sim"}},
		{"kind-create-pull-timeout.txt", engine.Docker, problem.ErrNodeImagePull,
			[]string{"could not download", "cannot be reached"}, []string{"internet connection"}},
		{"kind-create-podman-pull-offline.txt", engine.Podman, problem.ErrNodeImagePull,
			[]string{"could not download", "docker.io/kindest/node@sha256:"},
			[]string{"internet connection", "Podman"}},
		{"kind-create-pull-manifest-unknown.txt", engine.Docker, problem.ErrNodeImagePull,
			[]string{"kindest/node:v1.99.0", "does not exist"},
			[]string{"tag", DefaultNodeImage}},
		{"kind-create-pull-access-denied.txt", engine.Docker, problem.ErrNodeImagePull,
			[]string{"kindest/nodes:v1.37.0", "refused", "name is wrong"},
			[]string{"check the node image's name"}},
		{"kind-create-pull-rate-limit.txt", engine.Docker, problem.ErrNodeImagePull,
			[]string{"download limit"}, []string{"docker login"}},
		{"kind-create-rootless-cgroup1.txt", engine.Docker, nil,
			[]string{"rootless", "cgroup v2"}, []string{"https://kind.sigs.k8s.io/docs/user/rootless/", "systemd.unified_cgroup_hierarchy=1", "runs as root"}},
		{"kind-create-rootless-delegate.txt", engine.Podman, nil,
			[]string{"Podman runs rootless", "does not delegate"},
			[]string{"/etc/systemd/system/user@.service.d/delegate.conf", "Delegate=yes", "daemon-reload", "log out"}},
		// Podman's output captured here (Debian's 4.3.1 asks for
		// nofile=1048576; the hard limit is 20000) for the command kind
		// runs; kind itself stops first at the missing /lib/modules.
		// Podman's output captured here for the command kind runs, with
		// Debian's crun 1.8 on this hybrid cgroup v1 machine.
		{"kind-create-podman-crun-hybrid.txt", engine.Podman, nil,
			[]string{"crun", "hybrid"}, []string{"apt-get install runc", "[engine]", `runtime = "runc"`, "CONTAINERS_CONF"}},
		// Captured here: a host with no /lib/modules (a container).
		{"kind-create-podman-no-lib-modules.txt", engine.Podman, nil,
			[]string{"no /lib/modules"}, []string{"sudo mkdir -p /lib/modules"}},
		{"kind-create-podman-nofile.txt", engine.Podman, nil,
			[]string{"open-files limit", "hard limit"},
			[]string{"default_ulimits = []", "[containers]", "CONTAINERS_CONF", "containers.conf"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			kindErr := kindErrorFixture(t, tt.fixture)
			err := translate(kindErr, tt.engine)
			p := mustProblem(t, err, tt.sentinel)
			assertContains(t, "Summary", p.Summary, tt.summary...)
			assertContains(t, "Fix", p.Fix, tt.fix...)
			if strings.Contains(p.Summary, "\n") {
				t.Errorf("Summary spans lines:\n%s", p.Summary)
			}
			// The command's output stays reachable for --verbose.
			if re := kindexec.RunErrorForError(kindErr); re != nil && len(re.Output) > 0 {
				last := engine.LastMeaningfulLine(string(re.Output), nil)
				assertContains(t, "Err", p.Err.Error(), last)
			}
		})
	}
}

func TestTranslateKindErrorOthers(t *testing.T) {
	if translate(nil, engine.Docker) != nil {
		t.Error("nil error translated to non-nil")
	}
	already := &problem.Problem{Summary: "explained already"}
	if got := translate(already, engine.Docker); got != already {
		t.Errorf("a Problem was re-translated: %v", got)
	}
	unknown := kinderrors.Wrap(errors.New("boom"), "failed to frobnicate")
	p := mustProblem(t, translate(unknown, engine.Docker), nil)
	assertContains(t, "Summary", p.Summary, "kind could not create the cluster", "failed to frobnicate: boom")
	if !errors.Is(p, unknown) {
		t.Error("the Problem does not wrap kind's error")
	}
	// A failed delete is not a failed create: it says what failed and how
	// to remove the cluster's containers by hand.
	p = mustProblem(t, translateDelete(unknown, engine.Podman, "k8slab"), nil)
	assertContains(t, "Summary", p.Summary, `kind could not delete or list cluster "k8slab"`, "failed to frobnicate: boom")
	assertContains(t, "Fix", p.Fix, "podman ps -a --filter label=io.x-k8s.kind.cluster=k8slab", "podman rm -f")
	if strings.Contains(p.Summary, "create") {
		t.Errorf("a failed delete is called a failed create: %s", p.Summary)
	}
}

// recordSteps collects what a Progress is told.
func recordSteps() (func(problem.Step), *[]problem.Step) {
	var steps []problem.Step
	return func(s problem.Step) { steps = append(steps, s) }, &steps
}

// statusLines replays what kind's cli.Status logs at V(0) for a logger
// other than kind's own: " • stage  ...\n" on Start (after ending the
// previous stage with " ✓ stage\n"), " ✓ " or " ✗ " on End.
type statusLines struct {
	l      log.Logger
	status string
}

func (s *statusLines) start(stage string) {
	s.end(true)
	s.status = stage
	s.l.V(0).Infof(" • %s  ...\n", stage)
}

func (s *statusLines) end(ok bool) {
	if s.status == "" {
		return
	}
	if ok {
		s.l.V(0).Infof(" ✓ %s\n", s.status)
	} else {
		s.l.V(0).Infof(" ✗ %s\n", s.status)
	}
	s.status = ""
}

func stepSummary(steps []problem.Step) []string {
	var out []string
	for _, s := range steps {
		state := map[problem.StepState]string{problem.StepStarted: "start", problem.StepDone: "done", problem.StepFailed: "FAIL", problem.StepWarning: "warn"}[s.State]
		out = append(out, state+" "+s.Name)
	}
	return out
}

func TestKindStepsSuccess(t *testing.T) {
	progress, steps := recordSteps()
	k := newSteps(progress, config(Options{}))
	s := &statusLines{l: k}
	k.V(0).Infof("Creating cluster %q ...\n", "k8slab")
	k.V(1).Infof("Pulling image: %s ...", DefaultNodeImage)
	s.start("Ensuring node image (kindest/node:v1.37.0) 🖼️")
	s.start("Preparing nodes 📦 📦 📦 ")
	s.end(true)
	for _, stage := range []string{"Writing configuration 📜", "Starting control-plane 🕹️", "Installing CNI 🔌",
		"Installing StorageClass 💾", "Joining worker nodes 🚜", "Waiting ≤ 3m0s for control-plane = Ready ⏳"} {
		s.start(stage)
		s.end(true)
	}
	k.V(0).Infof(" • Ready after %s 💚", "41s")
	k.Warn("cgroup v1 is deprecated")
	k.finish(nil)

	want := []string{
		"start Getting the node image", "done Getting the node image",
		"start Starting the node containers", "done Starting the node containers",
		"start Writing the node configuration", "done Writing the node configuration",
		"start Starting the control plane", "done Starting the control plane",
		"start Installing the pod network (CNI)", "done Installing the pod network (CNI)",
		"start Installing the default StorageClass", "done Installing the default StorageClass",
		"start Joining the worker nodes", "done Joining the worker nodes",
		"start Waiting for the control plane to be Ready", "done Waiting for the control plane to be Ready",
		// kind's warnings reach the learner (#19.14: they were dropped).
		"warn kind: cgroup v1 is deprecated",
	}
	if got := stepSummary(*steps); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d := (*steps)[0].Detail; !strings.Contains(d, "kindest/node:v1.37.0") {
		t.Errorf("image step detail = %q", d)
	}
	if d := (*steps)[2].Detail; !strings.Contains(d, "3 in all") {
		t.Errorf("nodes step detail = %q", d)
	}
}

func TestKindStepsFailure(t *testing.T) {
	progress, steps := recordSteps()
	k := newSteps(progress, config(Options{}))
	s := &statusLines{l: k}
	s.start("Ensuring node image (kindest/node:v1.37.0) 🖼️")
	s.start("Preparing nodes 📦 📦 📦 ")
	s.end(true)
	s.start("Writing configuration 📜")
	s.end(true)
	s.start("Starting control-plane 🕹️")
	s.end(false)
	k.V(0).Infof("Deleted nodes: %q", []string{"k8slab-worker"})
	k.finish(translate(kindErrorFixture(t, "kind-create-kubelet-unhealthy.txt"), engine.Docker))
	// kind may still log after an interrupted Create has returned.
	s.start("Installing CNI 🔌")

	got := *steps
	last := got[len(got)-1]
	if last.Name != "Starting the control plane" || last.State != problem.StepFailed {
		t.Fatalf("last step = %+v, want the control plane failed", last)
	}
	if !strings.Contains(last.Detail, "control plane did not start") {
		t.Errorf("failed step detail = %q, want the Problem's summary", last.Detail)
	}
	if len(got) != 8 {
		t.Errorf("steps:\n%s", strings.Join(stepSummary(got), "\n"))
	}
}

func TestKindStepsWaitTimesOut(t *testing.T) {
	progress, steps := recordSteps()
	k := newSteps(progress, config(Options{}))
	s := &statusLines{l: k}
	s.start("Waiting ≤ 3m0s for control-plane = Ready ⏳")
	s.end(false)
	k.V(0).Info(" • WARNING: Timed out waiting for Ready ⚠️")
	k.finish(nil)
	got := *steps
	if len(got) != 2 || got[1].State != problem.StepDone || !strings.Contains(got[1].Detail, "not Ready yet") {
		t.Errorf("steps = %+v, want the wait done with a not-Ready-yet note", got)
	}
}

func TestStepForUnknownStage(t *testing.T) {
	name, _ := stepFor("Frobnicating the nodes 🧪 ✨", 3)
	if name != "Frobnicating the nodes" {
		t.Errorf("name = %q", name)
	}
}

func TestKubeconfigFileModes(t *testing.T) {
	base := t.TempDir()
	kc := filepath.Join(base, "state", "clusters", "kind-k8slab.kubeconfig")
	if err := ensureKubeconfigDir(kc); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Dir(kc))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Errorf("new kubeconfig dir mode = %v, want 0700", fi.Mode().Perm())
	}
	// A file kind merged into keeps its old mode; secureKubeconfig fixes it.
	if err := os.WriteFile(kc, []byte("apiVersion: v1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := secureKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(kc); fi.Mode().Perm() != 0o600 {
		t.Errorf("kubeconfig mode = %v, want 0600", fi.Mode().Perm())
	}
	// A directory that already existed is left alone.
	shared := filepath.Join(base, "shared")
	if err := os.Mkdir(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := ensureKubeconfigDir(filepath.Join(shared, "kc")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(shared); fi.Mode().Perm() != 0o755 {
		t.Errorf("existing dir mode changed to %v", fi.Mode().Perm())
	}
	if err := removeKubeconfig(kc); err != nil {
		t.Fatal(err)
	}
	if err := removeKubeconfig(kc); err != nil {
		t.Errorf("removing a missing kubeconfig: %v", err)
	}
}

func TestCheckPortFree(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	p := mustProblem(t, checkPortFree("127.0.0.1", port), nil)
	assertContains(t, "Summary", p.Summary, fmt.Sprintf("port %d", port), "already in use")
	assertContains(t, "Fix", p.Fix, fmt.Sprintf("lsof -i :%d", port))
	l.Close()
	if err := checkPortFree("127.0.0.1", port); err != nil {
		t.Errorf("free port: %v", err)
	}
}

func TestWaitOrLeaveAnswersCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	go cancel()
	err := waitOrLeave(ctx, func() error { <-release; return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestKindOnThisMachine drives the real kind library against this
// machine's docker CLI with its engine down: every operation must come
// back with the engine-not-running Problem, and nothing may be written to
// the kubeconfig or to ~/.kube/config.
func TestKindOnThisMachine(t *testing.T) {
	enginetest.DockerDown(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KUBECONFIG", filepath.Join(home, "env-kubeconfig"))
	kc := filepath.Join(t.TempDir(), "state", "kind.kubeconfig")
	p, err := New(Options{KubeconfigPath: kc, Engine: engine.Docker})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	progress, steps := recordSteps()
	err = p.Create(ctx, progress)
	prob := mustProblem(t, err, problem.ErrEngineNotRunning)
	assertContains(t, "Summary", prob.Summary, "not running")
	if got := stepSummary(*steps); len(got) != 2 || got[0] != "start Checking Docker" || got[1] != "FAIL Checking Docker" {
		t.Errorf("steps = %q", got)
	}

	_, err = p.Exists(ctx)
	mustProblem(t, err, problem.ErrEngineNotRunning)
	mustProblem(t, p.Delete(ctx, nil), problem.ErrEngineNotRunning)

	// Past k8slab's own check, straight into kind's library, the error
	// kind returns must still be recognised.
	kindErr := p.kind(log.NoopLogger{}).Create(p.opts.Name, p.createOptions()...)
	mustProblem(t, translate(kindErr, engine.Docker), problem.ErrEngineNotRunning)

	for _, path := range []string{kc, filepath.Join(home, ".kube", "config"), filepath.Join(home, "env-kubeconfig")} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was written (stat: %v)", path, err)
		}
	}
}

// TestCreateCancelledDeletesWhatItMade cancels a Create while kind is
// making the nodes (#19.14: kind carried on, and its half-made cluster
// stayed, while the TUI said the creation cleaned up after itself). The
// engine is testdata/fakeengine/docker, where containers are files.
func TestCreateCancelledDeletesWhatItMade(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("testdata", "fakeengine"))
	if err != nil {
		t.Fatal(err)
	}
	state := t.TempDir()
	t.Setenv("PATH", abs+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_ENGINE_STATE", state)
	t.Setenv("HOME", t.TempDir())
	p, err := New(Options{KubeconfigPath: filepath.Join(t.TempDir(), "kc"), Engine: engine.Docker})
	if err != nil {
		t.Fatal(err)
	}
	// The fake engine publishes no port; a kind cluster on this machine
	// may hold the real one (seen while a kind proof ran beside the suite).
	p.portFree = func(string, int) error { return nil }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps []problem.Step
	err = p.Create(ctx, func(s problem.Step) {
		steps = append(steps, s)
		// Cancel once kind has begun making the node containers.
		if s.Name == "Writing the node configuration" && s.State == problem.StepStarted {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "what it had made is deleted") {
		t.Fatalf("Create = %v, want cancelled with its nodes deleted", err)
	}
	calls, _ := os.ReadFile(filepath.Join(state, "calls"))
	if !strings.Contains(string(calls), "run --name k8slab-control-plane") {
		t.Fatalf("kind made no node container before the cancel; calls:\n%s", calls)
	}
	left, _ := os.ReadDir(filepath.Join(state, "containers"))
	if len(left) != 0 {
		t.Errorf("containers left behind: %v\ncalls:\n%s", left, calls)
	}
	got := strings.Join(stepSummary(steps), "\n")
	for _, want := range []string{"start Stopping: deleting the node containers", "done Stopping", "done Deleting the half-made kind cluster k8slab"} {
		if !strings.Contains(got, want) {
			t.Errorf("steps lack %q:\n%s", want, got)
		}
	}
}

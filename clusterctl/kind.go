package clusterctl

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/kind/pkg/cluster"
	kindexec "sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/kind/pkg/log"
)

const (
	// DefaultKindClusterName names the cluster when KindOptions.Name is
	// empty.
	DefaultKindClusterName = "k8slab"
	// DefaultKindNodeImage is kind v0.33.0's own default node image,
	// pinned by digest so every learner runs the same Kubernetes whatever
	// the tag points at later.
	DefaultKindNodeImage = "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"
	// KindNodePort is the NodePort the labs expose their apps on. The kind
	// cluster publishes it on 127.0.0.1 only, so a lab app is never
	// reachable from other machines.
	KindNodePort = 30080
)

const (
	kindListenAddress = "127.0.0.1"
	// kindWaitForReady bounds kind's wait for the control plane to become
	// Ready, generously so a slow laptop gets there too. kind does not fail
	// when it runs out: the cluster works, it is just not Ready yet.
	kindWaitForReady = 3 * time.Minute
	// maxKindNameLen keeps "<name>-control-plane", the node container's
	// hostname, within the 63 characters of a DNS label.
	maxKindNameLen = 63 - len("-control-plane")
)

// KindOptions configures NewKind.
type KindOptions struct {
	// Name is the kind cluster's name; empty means DefaultKindClusterName.
	Name string
	// KubeconfigPath is the file Create writes the cluster's kubeconfig
	// to. It is required: k8slab keeps its own file so that the learner's
	// ~/.kube/config is never touched.
	KubeconfigPath string
	// NodeImage is the kindest/node image for every node; empty means
	// DefaultKindNodeImage.
	NodeImage string
	// Engine is the container engine kind runs the nodes on, as
	// DetectEngine returns it: EngineDocker, EnginePodman or EngineNerdctl.
	Engine string
}

// validKindName reports whether name is a DNS label of at most
// maxKindNameLen characters: kind uses it in the node containers'
// hostnames and in the kubeconfig context "kind-<name>".
func validKindName(name string) bool {
	if name == "" || len(name) > maxKindNameLen || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// withDefaults fills in the optional fields.
func (o KindOptions) withDefaults() KindOptions {
	if o.Name == "" {
		o.Name = DefaultKindClusterName
	}
	if o.NodeImage == "" {
		o.NodeImage = DefaultKindNodeImage
	}
	return o
}

// NewKind returns a Provider that runs a kind cluster: one control-plane
// node and two workers, with KindNodePort published on 127.0.0.1.
func NewKind(o KindOptions) (Provider, error) {
	o = o.withDefaults()
	if !validKindName(o.Name) {
		return nil, &Problem{
			Summary: fmt.Sprintf("%q is not a valid kind cluster name: it must be a DNS label of at most %d characters, "+
				"made of lowercase letters, digits and '-', starting and ending with a letter or digit", o.Name, maxKindNameLen),
			Fix: fmt.Sprintf("choose a name such as %q or %q", DefaultKindClusterName, DefaultKindClusterName+"-2"),
		}
	}
	if o.KubeconfigPath == "" {
		return nil, errors.New("kind provider: KubeconfigPath is required, so the learner's ~/.kube/config is never written")
	}
	// kind resolves a relative path against the working directory each
	// time it writes; an absolute path keeps Create and Delete on one file.
	abs, err := filepath.Abs(o.KubeconfigPath)
	if err != nil {
		return nil, fmt.Errorf("kind provider: kubeconfig path: %w", err)
	}
	o.KubeconfigPath = abs
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("kind provider: kubeconfig path %s is a directory, not a file", abs)
	}
	if strings.ContainsAny(o.NodeImage, " \t\n") {
		return nil, fmt.Errorf("kind provider: node image %q contains white space", o.NodeImage)
	}
	if _, ok := engineSpecFor(o.Engine); !ok {
		return nil, fmt.Errorf("kind provider: engine %q is not one kind supports: use %q, %q or %q (DetectEngine finds the one installed)",
			o.Engine, EngineDocker, EnginePodman, EngineNerdctl)
	}
	return &kindProvider{opts: o}, nil
}

// kindConfig is the cluster k8slab asks kind for. Each call returns a new
// value because kind fills in defaults in place.
func kindConfig(o KindOptions) *v1alpha4.Cluster {
	o = o.withDefaults()
	controlPlane := v1alpha4.Node{
		Role:  v1alpha4.ControlPlaneRole,
		Image: o.NodeImage,
		ExtraPortMappings: []v1alpha4.PortMapping{{
			ContainerPort: KindNodePort,
			HostPort:      KindNodePort,
			ListenAddress: kindListenAddress,
			Protocol:      v1alpha4.PortMappingProtocolTCP,
		}},
	}
	worker := v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: o.NodeImage}
	return &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Name:     o.Name,
		Nodes:    []v1alpha4.Node{controlPlane, worker, worker},
	}
}

type kindProvider struct {
	opts KindOptions
}

func (k *kindProvider) Name() string           { return "kind" }
func (k *kindProvider) ClusterName() string    { return k.opts.Name }
func (k *kindProvider) KubeconfigPath() string { return k.opts.KubeconfigPath }

func (k *kindProvider) engine() engineSpec {
	e, _ := engineSpecFor(k.opts.Engine) // validated by NewKind
	return e
}

// kind is a kind library provider for the configured engine that reports
// to logger.
func (k *kindProvider) kind(logger log.Logger) *cluster.Provider {
	var engine cluster.ProviderOption
	switch k.opts.Engine {
	case EnginePodman:
		engine = cluster.ProviderWithPodman()
	case EngineNerdctl:
		engine = cluster.ProviderWithNerdctl(EngineNerdctl)
	default:
		engine = cluster.ProviderWithDocker()
	}
	return cluster.NewProvider(engine, cluster.ProviderWithLogger(logger))
}

func (k *kindProvider) Create(ctx context.Context, progress Progress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := k.engine()
	// kind would find a stopped engine too, but only after its own
	// uninterruptible `docker info` and with no more than "exit status 1".
	if err := progress.run("Checking "+e.display, func() error { return probeEngine(ctx, e) }); err != nil {
		return err
	}

	p := k.kind(log.NoopLogger{})
	exists, err := k.listed(ctx, p)
	if err != nil {
		return err
	}
	if err := ensureKubeconfigDir(k.opts.KubeconfigPath); err != nil {
		return err
	}
	if exists {
		return k.reuse(ctx, p)
	}
	if err := checkPortFree(kindListenAddress, KindNodePort); err != nil {
		return err
	}
	// kind keeps the mode of a file that exists; tighten it before the
	// cluster-admin key is written into it, not only after.
	if _, err := os.Stat(k.opts.KubeconfigPath); err == nil {
		if err := secureKubeconfig(k.opts.KubeconfigPath); err != nil {
			return err
		}
	}

	steps := newKindSteps(progress, kindConfig(k.opts))
	p = k.kind(steps)
	err = runUncancellable(ctx, func() error {
		return p.Create(k.opts.Name, k.createOptions()...)
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			steps.finish(errors.New("interrupted"))
			return fmt.Errorf("creating kind cluster %q was interrupted; kind carries on until k8slab exits and may leave a half-made cluster behind, which deleting the cluster removes: %w",
				k.opts.Name, err)
		}
		err = translateKindError(err, k.opts.Engine)
		steps.finish(err)
		return err
	}
	steps.finish(nil)
	return secureKubeconfig(k.opts.KubeconfigPath)
}

// createOptions are the options Create passes to kind.
func (k *kindProvider) createOptions() []cluster.CreateOption {
	return []cluster.CreateOption{
		cluster.CreateWithV1Alpha4Config(kindConfig(k.opts)),
		cluster.CreateWithNodeImage(k.opts.NodeImage),
		// With a path set kind merges into exactly that file and never
		// reads $KUBECONFIG or ~/.kube/config; a failed Create removes its
		// entry from that file only.
		cluster.CreateWithKubeconfigPath(k.opts.KubeconfigPath),
		cluster.CreateWithWaitForReady(kindWaitForReady),
		cluster.CreateWithDisplayUsage(false),
		cluster.CreateWithDisplaySalutation(false),
	}
}

// reuse makes Create idempotent: a cluster of this name that answers gets
// its kubeconfig refreshed and ErrAlreadyRunning.
func (k *kindProvider) reuse(ctx context.Context, p *cluster.Provider) error {
	err := runUncancellable(ctx, func() error {
		return p.ExportKubeConfig(k.opts.Name, k.opts.KubeconfigPath, false)
	})
	if err == nil {
		if err := secureKubeconfig(k.opts.KubeconfigPath); err != nil {
			return err
		}
		return fmt.Errorf("kind cluster %q, kubeconfig %s: %w", k.opts.Name, k.opts.KubeconfigPath, ErrAlreadyRunning)
	}
	if ctx.Err() != nil {
		return err
	}
	// The nodes exist but kind cannot read the kubeconfig from the control
	// plane: the containers are stopped (after a reboot with Docker
	// Desktop, say) or a previous Create died half-way.
	nodes := []string{k.opts.Name + "-control-plane", k.opts.Name + "-worker", k.opts.Name + "-worker2"}
	if listed, lerr := p.ListNodes(k.opts.Name); lerr == nil && len(listed) > 0 {
		nodes = nodes[:0]
		for _, n := range listed {
			nodes = append(nodes, n.String())
		}
		slices.Sort(nodes)
	}
	cli := k.opts.Engine
	return &Problem{
		Summary: fmt.Sprintf("a kind cluster named %q exists but is not running: its node containers are stopped or it was only half created", k.opts.Name),
		Fix: fmt.Sprintf("start it with `%s start %s` and try again; if it still fails, delete the cluster and create it afresh",
			cli, strings.Join(nodes, " ")),
		Err: withOutput(err),
	}
}

func (k *kindProvider) Delete(ctx context.Context, progress Progress) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := k.kind(log.NoopLogger{})
	exists, err := k.listed(ctx, p)
	if err != nil {
		return err
	}
	// The kubeconfig goes first: without the cluster it is useless, and
	// kind's own clean-up of it then finds nothing to rewrite.
	if err := removeKubeconfig(k.opts.KubeconfigPath); err != nil {
		return err
	}
	if !exists {
		return nil
	}
	if err := ensureKubeconfigDir(k.opts.KubeconfigPath); err != nil {
		return err
	}
	return progress.run("Deleting kind cluster "+k.opts.Name, func() error {
		err := runUncancellable(ctx, func() error {
			return k.kind(log.NoopLogger{}).Delete(k.opts.Name, k.opts.KubeconfigPath)
		})
		if err != nil && !(ctx.Err() != nil && errors.Is(err, ctx.Err())) {
			err = translateKindError(err, k.opts.Engine)
		}
		return err
	})
}

func (k *kindProvider) Exists(ctx context.Context) (bool, error) {
	return k.listed(ctx, k.kind(log.NoopLogger{}))
}

// listed reports whether kind lists a cluster of this name: whether any of
// its node containers exist, running or stopped.
func (k *kindProvider) listed(ctx context.Context, p *cluster.Provider) (bool, error) {
	var names []string
	err := runUncancellable(ctx, func() error {
		var err error
		names, err = p.List()
		return err
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return false, err
		}
		return false, translateKindError(err, k.opts.Engine)
	}
	return slices.Contains(names, k.opts.Name), nil
}

// runUncancellable runs f, which cannot be interrupted (kind's library runs
// its commands without a context), and stops waiting for it when ctx ends
// so a learner's Ctrl-C is answered at once. f keeps running until the
// program exits.
func runUncancellable(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ensureKubeconfigDir creates the kubeconfig's directory private to the
// learner. kind would create it world-readable (0755). A directory that
// already exists keeps its mode: it may be shared, like /tmp, and the
// kubeconfig itself is 0600 either way.
func ensureKubeconfigDir(path string) error {
	dir := filepath.Dir(path)
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the kubeconfig directory: %w", err)
	}
	// MkdirAll's mode passes through the umask; make sure of 0700.
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("creating the kubeconfig directory: %w", err)
	}
	return nil
}

// secureKubeconfig makes the kubeconfig, which holds the cluster-admin
// key, readable by the learner only. kind creates it 0600 but leaves the
// mode of a file that already existed alone.
func secureKubeconfig(path string) error {
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("securing the kubeconfig: %w", err)
	}
	return nil
}

func removeKubeconfig(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("removing the kubeconfig: %w", err)
	}
	return nil
}

// checkPortFree fails early, before minutes of image pulls, when the host
// port the labs use is taken; kind would only find out when it starts the
// control-plane container.
func checkPortFree(addr string, port int) error {
	hostPort := net.JoinHostPort(addr, fmt.Sprint(port))
	l, err := net.Listen("tcp", hostPort)
	if err != nil {
		return portInUseProblem(hostPort, err)
	}
	return l.Close()
}

func portInUseProblem(hostPort string, err error) *Problem {
	_, port, _ := net.SplitHostPort(hostPort)
	return &Problem{
		Summary: fmt.Sprintf("port %s on this machine is already in use, and the kind cluster needs it to show you lab apps at http://%s", port, hostPort),
		Fix: fmt.Sprintf("find what is using it (`lsof -i :%s` or `ss -ltnp 'sport = :%s'`) and stop it; "+
			"often it is another kind cluster, which `docker ps` lists", port, port),
		Err: err,
	}
}

// withOutput adds the tail of the output of the command kind ran, which
// kind keeps out of the error text, so --verbose shows why it failed.
func withOutput(err error) error {
	re := kindexec.RunErrorForError(err)
	if re == nil || len(strings.TrimSpace(string(re.Output))) == 0 {
		return err
	}
	return fmt.Errorf("%w\ncommand output:\n%s", err, outputTail(string(re.Output), outputTailLines))
}

// translateKindError explains an error from kind's library as a *Problem.
// kind's errors name the command that failed but keep what the command
// printed in exec.RunError.Output; the explanation is in there. Errors
// that are already Problems are returned as they are.
func translateKindError(err error, engine string) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*Problem](err); ok {
		return err
	}
	e, ok := engineSpecFor(engine)
	if !ok {
		e = engineSpec{name: engine, display: engine}
	}
	text := err.Error()
	re := kindexec.RunErrorForError(err)
	if re != nil {
		text += "\n" + string(re.Output)
		if errors.Is(re.Inner, osexec.ErrNotFound) {
			return noEngineProblem(e.name, err)
		}
	}
	lower := strings.ToLower(text)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(lower, strings.ToLower(s)) {
				return true
			}
		}
		return false
	}
	verbose := withOutput(err)

	if has("executable file not found") {
		return noEngineProblem(e.name, err)
	}
	if p := engineProblem(text, fmt.Errorf("%w: %w", ErrEngineNotRunning, verbose)); p != nil {
		return p
	}
	image := quotedAfter(text, "failed to pull image ")

	switch {
	case has("already exist for a cluster with the name", "is already in use by container"):
		name := quotedAfter(text, "cluster with the name ")
		if name == "" {
			name = DefaultKindClusterName
		}
		return &Problem{
			Summary: fmt.Sprintf("a kind cluster named %q already exists, or containers with its node names do", name),
			Fix: fmt.Sprintf("if it is left over from an earlier k8slab run, delete it and try again; `%s ps -a --filter label=io.x-k8s.kind.cluster=%s` lists its containers "+
				"and `%s rm -f` removes them. If it is someone else's cluster, give k8slab's cluster another name", e.name, name, e.name),
			Err: verbose,
		}
	case has("port is already allocated", "address already in use"):
		return portInUseProblem(busyHostPort(text), verbose)
	case has("no space left on device", "eviction thresholds have been met", "ephemeral-storage"):
		return &Problem{
			Summary: fmt.Sprintf("%s ran out of disk space while creating the cluster", e.display),
			Fix: fmt.Sprintf("free some space: `%s system df` shows what %s uses and `%s system prune` removes stopped containers and unused images%s. Then try again",
				e.name, e.display, e.name, desktopHint(e, "; with Docker Desktop you can also raise its disk limit in Settings → Resources")),
			Err: verbose,
		}
	case has("cannot allocate memory", "out of memory", "oomkilled", "oom-kill", "signal: killed", "exit status 137"):
		return &Problem{
			Summary: fmt.Sprintf("%s ran out of memory while creating the cluster: three Kubernetes nodes need a few GB", e.display),
			Fix: fmt.Sprintf("close memory-hungry programs, or give %s more memory (4 GB or more%s), then try again. %s",
				e.display, moreMemoryHint(e), simHint),
			Err: verbose,
		}
	case image != "" || has("unable to find image"):
		return pullProblem(e, image, has, verbose)
	case has("rootless provider requires"):
		return &Problem{
			Summary: fmt.Sprintf("%s runs rootless here, and this host is not set up for kind with a rootless engine", e.display),
			Fix:     "follow https://kind.sigs.k8s.io/docs/user/rootless/ (cgroup v2 with systemd delegation), or use a rootful engine. " + simHint,
			Err:     verbose,
		}
	case has("failed to init node with kubeadm", "kubelet is not healthy", "kubelet is not running", "wait-control-plane"):
		return &Problem{
			Summary: "the Kubernetes control plane did not start inside its node container",
			Fix: fmt.Sprintf("this is most often too little memory or disk for %s: free some (`%s system prune` clears disk), "+
				"give %s more memory (4 GB or more), then try again. %s", e.display, e.name, e.display, simHint),
			Err: verbose,
		}
	case has("failed to join node with kubeadm"):
		return &Problem{
			Summary: "a worker node could not join the cluster",
			Fix: fmt.Sprintf("this is most often too little memory for three nodes: give %s more memory (4 GB or more) or close other programs, "+
				"then try again. %s", e.display, simHint),
			Err: verbose,
		}
	}
	return &Problem{
		Summary: "kind could not create the cluster: " + firstLine(err.Error()),
		Fix:     "try again; if it fails the same way, delete the cluster and create it afresh. " + simHint,
		Err:     verbose,
	}
}

// pullProblem explains why the node image could not be downloaded.
func pullProblem(e engineSpec, image string, has func(...string) bool, err error) *Problem {
	if image == "" {
		image = "the node image"
	}
	switch {
	case has("manifest unknown", "not found: manifest", "manifest for"):
		return &Problem{
			Summary: fmt.Sprintf("the node image %s does not exist on its registry", image),
			Fix:     fmt.Sprintf("check the node image's tag and digest, or leave the node image unset to use k8slab's default (%s)", DefaultKindNodeImage),
			Err:     err,
		}
	case has("pull access denied", "requested access to the resource is denied", "insufficient_scope", "unauthorized"):
		return &Problem{
			Summary: fmt.Sprintf("the registry refused to give out the node image %s: the name is wrong or the image is private", image),
			Fix:     fmt.Sprintf("check the node image's name, or leave it unset to use k8slab's default (%s)", DefaultKindNodeImage),
			Err:     err,
		}
	case has("toomanyrequests", "rate limit"):
		return &Problem{
			Summary: fmt.Sprintf("Docker Hub's download limit was reached while pulling %s", image),
			Fix:     fmt.Sprintf("wait a few hours, or sign in with `%s login` (a free account has a higher limit), then try again", e.name),
			Err:     err,
		}
	case has("dial tcp", "no such host", "i/o timeout", "timeout exceeded", "tls handshake timeout",
		"connection refused", "connection reset", "network is unreachable", "server misbehaving", "temporary failure in name resolution"):
		return &Problem{
			Summary: fmt.Sprintf("could not download the node image %s: the registry (Docker Hub) cannot be reached", image),
			Fix: fmt.Sprintf("check your internet connection, and any proxy %s needs%s, then try again. "+
				"The image is downloaded once and then reused", e.display, desktopHint(e, " (Docker Desktop: Settings → Resources → Proxies)")),
			Err: err,
		}
	}
	return &Problem{
		Summary: fmt.Sprintf("could not download the node image %s", image),
		Fix:     fmt.Sprintf("run `%s pull %s` to see why, fix that, then try again", e.name, image),
		Err:     err,
	}
}

// quotedAfter returns the double-quoted string that follows prefix in
// text, or "".
func quotedAfter(text, prefix string) string {
	_, rest, ok := strings.Cut(text, prefix+`"`)
	if !ok {
		return ""
	}
	quoted, _, ok := strings.Cut(rest, `"`)
	if !ok {
		return ""
	}
	return quoted
}

// busyHostPort finds the address in Docker's "Bind for 127.0.0.1:30080
// failed: port is already allocated" or "listen tcp4 127.0.0.1:30080: bind:
// address already in use", falling back to the one k8slab publishes.
func busyHostPort(text string) string {
	for _, marker := range []string{"Bind for ", "listen tcp4 ", "listen tcp6 ", "listen tcp "} {
		if _, rest, ok := strings.Cut(text, marker); ok {
			field, _, _ := strings.Cut(rest, " ")
			field = strings.TrimSuffix(field, ":")
			if _, _, err := net.SplitHostPort(field); err == nil {
				return field
			}
		}
	}
	return net.JoinHostPort(kindListenAddress, fmt.Sprint(KindNodePort))
}

// desktopHint returns hint, which is about Docker Desktop, for Docker only.
func desktopHint(e engineSpec, hint string) string {
	if e.name != EngineDocker {
		return ""
	}
	return hint
}

// moreMemoryHint says where an engine's memory limit is set, for the
// engines that run in a VM with one.
func moreMemoryHint(e engineSpec) string {
	switch e.name {
	case EngineDocker:
		return "; Docker Desktop: Settings → Resources → Memory"
	case EnginePodman:
		return "; a Podman machine: `podman machine stop`, `podman machine set --memory 4096`, `podman machine start`"
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// kindSteps turns kind's status lines into Steps. kind's library reports
// each stage with cli.Status, which, for any logger but kind's own
// terminal one, logs " • <stage>  ...\n" at V(0) when a stage starts and
// " ✓ <stage>\n" or " ✗ <stage>\n" when it ends. Those lines are the only
// progress kind reports, and their stage texts are fixed strings in
// kind's source.
type kindSteps struct {
	mu       sync.Mutex
	progress Progress
	nodes    int
	done     bool // after finish: kind may outlive an interrupted Create

	cur       string // Step name of the open stage, "" if none
	curStart  time.Time
	curFailed bool // kind marked it ✗ but the error has not arrived yet
}

func newKindSteps(progress Progress, cfg *v1alpha4.Cluster) *kindSteps {
	return &kindSteps{progress: progress, nodes: len(cfg.Nodes)}
}

func (s *kindSteps) Warn(string)           {}
func (s *kindSteps) Warnf(string, ...any)  {}
func (s *kindSteps) Error(string)          {}
func (s *kindSteps) Errorf(string, ...any) {}
func (s *kindSteps) V(level log.Level) log.InfoLogger {
	if level > 0 {
		return log.NoopInfoLogger{}
	}
	return kindStatusLogger{s}
}

type kindStatusLogger struct{ s *kindSteps }

func (l kindStatusLogger) Info(message string) { l.s.line(message) }
func (l kindStatusLogger) Infof(format string, args ...any) {
	l.s.line(fmt.Sprintf(format, args...))
}
func (l kindStatusLogger) Enabled() bool { return true }

// line handles one V(0) line from kind.
func (s *kindSteps) line(msg string) {
	msg = strings.TrimRight(msg, "\n")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	switch {
	case strings.HasPrefix(msg, " • ") && strings.HasSuffix(msg, "  ..."):
		s.closeOpen(StepDone, "")
		stage := strings.TrimSuffix(strings.TrimPrefix(msg, " • "), "  ...")
		name, detail := stepFor(stage, s.nodes)
		s.cur, s.curStart, s.curFailed = name, time.Now(), false
		s.emit(Step{Name: name, State: StepStarted, Detail: detail})
	case strings.HasPrefix(msg, " ✓ "):
		s.closeOpen(StepDone, "")
	case strings.HasPrefix(msg, " ✗ "):
		// Hold it: the error that explains it is what Create returns next.
		s.curFailed = true
	case strings.Contains(msg, "Timed out waiting for Ready"):
		// kind ends its wait with ✗ but still succeeds: the cluster works,
		// it is just not Ready yet.
		s.curFailed = false
		s.closeOpen(StepDone, "not Ready yet; the control plane usually is within a minute or two more")
	}
}

// finish closes the stage still open when kind returns, failed with err's
// summary if err is not nil, and ignores anything kind reports later.
func (s *kindSteps) finish(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		detail := err.Error()
		if p, ok := errors.AsType[*Problem](err); ok {
			detail = p.Summary
		}
		s.curFailed = true
		s.closeOpen(StepFailed, detail)
	} else {
		s.closeOpen(StepDone, "")
	}
	s.done = true
}

// closeOpen ends the open stage. A stage kind marked ✗ ends failed
// whatever state is asked for.
func (s *kindSteps) closeOpen(state StepState, detail string) {
	if s.cur == "" {
		return
	}
	if s.curFailed {
		state = StepFailed
	}
	s.emit(Step{Name: s.cur, State: state, Detail: detail, Elapsed: time.Since(s.curStart)})
	s.cur, s.curFailed = "", false
}

func (s *kindSteps) emit(st Step) {
	if s.progress != nil {
		s.progress(st)
	}
}

// stepFor names a kind stage for a learner, with a line on what it does.
// Stages kind adds in later versions keep kind's own words.
func stepFor(stage string, nodes int) (name, detail string) {
	switch {
	case strings.HasPrefix(stage, "Ensuring node image"):
		image := "the node image"
		if _, rest, ok := strings.Cut(stage, "("); ok {
			image, _, _ = strings.Cut(rest, ")")
		}
		return "Getting the node image", image + ": downloaded once (several hundred MB), then reused"
	case strings.HasPrefix(stage, "Preparing nodes"):
		return "Starting the node containers", fmt.Sprintf("one container per node: %d in all, 1 control plane and %d workers", nodes, nodes-1)
	case strings.HasPrefix(stage, "Configuring the external load balancer"):
		return "Configuring the API server load balancer", ""
	case strings.HasPrefix(stage, "Writing configuration"):
		return "Writing the node configuration", "kubeadm settings for every node"
	case strings.HasPrefix(stage, "Starting control-plane"):
		return "Starting the control plane", "kubeadm init starts etcd, the API server, the scheduler and the controller manager"
	case strings.HasPrefix(stage, "Installing CNI"):
		return "Installing the pod network (CNI)", "kindnet gives every pod its own IP address"
	case strings.HasPrefix(stage, "Installing StorageClass"):
		return "Installing the default StorageClass", "so PersistentVolumeClaims get volumes"
	case strings.HasPrefix(stage, "Joining more control-plane nodes"):
		return "Joining the other control-plane nodes", ""
	case strings.HasPrefix(stage, "Joining worker nodes"):
		return "Joining the worker nodes", "kubeadm join registers each worker with the API server"
	case strings.HasPrefix(stage, "Waiting"):
		return "Waiting for the control plane to be Ready", fmt.Sprintf("up to %s", kindWaitForReady)
	}
	return stripIcons(stage), ""
}

// stripIcons drops the emoji kind ends its stage texts with.
func stripIcons(s string) string {
	fields := strings.Fields(s)
	for len(fields) > 1 {
		last := fields[len(fields)-1]
		if strings.IndexFunc(last, func(r rune) bool { return r < 0x2000 }) >= 0 {
			break
		}
		fields = fields[:len(fields)-1]
	}
	return strings.Join(fields, " ")
}

// Package kind runs a lab cluster with kind's library on Docker, Podman or
// nerdctl: creating it (with kind's stages as steps), reusing it, deleting
// it, and explaining kind's failures for a learner. clusterctl's NewKind is
// its only front.
package kind

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/engine"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/log"
)

const (
	// DefaultClusterName names the cluster when Options.Name is
	// empty.
	DefaultClusterName = "k8slab"
	// DefaultNodeImage is kind v0.33.0's own default node image,
	// pinned by digest so every learner runs the same Kubernetes whatever
	// the tag points at later.
	DefaultNodeImage = "kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5"
	// NodePort is the NodePort the labs expose their apps on. The kind
	// cluster publishes it on 127.0.0.1 only, so a lab app is never
	// reachable from other machines.
	NodePort = 30080
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

// Options configures New.
type Options struct {
	// Name is the kind cluster's name; empty means DefaultClusterName.
	Name string
	// KubeconfigPath is the file Create writes the cluster's kubeconfig
	// to. It is required: k8slab keeps its own file so that the learner's
	// ~/.kube/config is never touched.
	KubeconfigPath string
	// NodeImage is the kindest/node image for every node; empty means
	// DefaultNodeImage.
	NodeImage string
	// Engine is the container engine kind runs the nodes on, as
	// engine.Detect returns it: engine.Docker, engine.Podman or engine.Nerdctl.
	Engine string

	// cgroupV1 is set by Create when the engine runs its containers on
	// cgroup v1.
	cgroupV1 bool
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
func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = DefaultClusterName
	}
	if o.NodeImage == "" {
		o.NodeImage = DefaultNodeImage
	}
	return o
}

// New returns a kind cluster of one control-plane node and two workers,
// with NodePort published on 127.0.0.1.
func New(o Options) (*Cluster, error) {
	o = o.withDefaults()
	if !validKindName(o.Name) {
		return nil, &problem.Problem{
			Summary: fmt.Sprintf("%q is not a valid kind cluster name: it must be a DNS label of at most %d characters, "+
				"made of lowercase letters, digits and '-', starting and ending with a letter or digit", o.Name, maxKindNameLen),
			Fix: fmt.Sprintf("choose a name such as %q or %q", DefaultClusterName, DefaultClusterName+"-2"),
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
	if _, ok := engine.SpecFor(o.Engine); !ok {
		return nil, fmt.Errorf("kind provider: engine %q is not one kind supports: use %q, %q or %q (DetectEngine finds the one installed)",
			o.Engine, engine.Docker, engine.Podman, engine.Nerdctl)
	}
	return &Cluster{opts: o}, nil
}

// config is the cluster k8slab asks kind for. Each call returns a new
// value because kind fills in defaults in place.
func config(o Options) *v1alpha4.Cluster {
	o = o.withDefaults()
	controlPlane := v1alpha4.Node{
		Role:  v1alpha4.ControlPlaneRole,
		Image: o.NodeImage,
		ExtraPortMappings: []v1alpha4.PortMapping{{
			ContainerPort: NodePort,
			HostPort:      NodePort,
			ListenAddress: kindListenAddress,
			Protocol:      v1alpha4.PortMappingProtocolTCP,
		}},
	}
	worker := v1alpha4.Node{Role: v1alpha4.WorkerRole, Image: o.NodeImage}
	c := &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Name:     o.Name,
		Nodes:    []v1alpha4.Node{controlPlane, worker, worker},
	}
	c.KubeadmConfigPatches = []string{patientLeaderElection}
	if o.cgroupV1 {
		c.KubeadmConfigPatches = append(c.KubeadmConfigPatches, kubeletOnCgroupV1)
	}
	return c
}

// patientLeaderElection gives the controller manager and the scheduler
// leases they can keep on a busy machine. With the defaults (15 s lease,
// 10 s to renew, each request 5 s) a kind cluster on a loaded machine
// lost both: "Failed to renew lease ... context deadline exceeded", exit,
// CrashLoopBackOff, and with them every controller (namespaces stuck
// Terminating, no default service account, no rollouts). kind's single
// control plane has no other copy to fail over to, so a longer lease
// costs nothing; leader election stays on, as the course describes it.
const patientLeaderElection = `kind: ClusterConfiguration
controllerManager:
  extraArgs:
    leader-elect-lease-duration: "60s"
    leader-elect-renew-deadline: "40s"
    leader-elect-retry-period: "5s"
scheduler:
  extraArgs:
    leader-elect-lease-duration: "60s"
    leader-elect-renew-deadline: "40s"
    leader-elect-retry-period: "5s"
`

// kubeletOnCgroupV1 lets the kubelet start on cgroup v1, which it refuses
// by default since Kubernetes 1.35 (KubeletConfiguration's failCgroupV1).
// kind applies it to every node's kubeadm configuration.
const kubeletOnCgroupV1 = `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
`

// Cluster is one kind cluster k8slab manages.
type Cluster struct {
	opts Options
	// portFree is checkPortFree; a test of what Create does with a fake
	// engine replaces it, so that a real cluster holding the port on the
	// test's machine cannot decide the test.
	portFree func(addr string, port int) error
}

func (k *Cluster) Name() string           { return "kind" }
func (k *Cluster) ClusterName() string    { return k.opts.Name }
func (k *Cluster) KubeconfigPath() string { return k.opts.KubeconfigPath }

func (k *Cluster) engine() engine.Spec {
	e, _ := engine.SpecFor(k.opts.Engine) // validated by New
	return e
}

// kind is a kind library provider for the configured engine that reports
// to logger.
func (k *Cluster) kind(logger log.Logger) *cluster.Provider {
	var opt cluster.ProviderOption
	switch k.opts.Engine {
	case engine.Podman:
		opt = cluster.ProviderWithPodman()
	case engine.Nerdctl:
		opt = cluster.ProviderWithNerdctl(engine.Nerdctl)
	default:
		opt = cluster.ProviderWithDocker()
	}
	return cluster.NewProvider(opt, cluster.ProviderWithLogger(logger))
}

// Create makes the cluster, or reuses one of this name that runs
// (problem.ErrAlreadyRunning). Cancelling ctx stops it: kind's library runs
// its commands without a context, so k8slab deletes the node containers
// under it, waits for kind to notice, and deletes whatever is left, before
// it returns. Nothing half-made stays behind unless that deletion fails,
// which the error then says.
func (k *Cluster) Create(ctx context.Context, progress func(problem.Step)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := k.engine()
	// kind would find a stopped engine too, but only after its own
	// uninterruptible `docker info` and with no more than "exit status 1".
	if err := problem.Run(progress, "Checking "+e.Display, func() error { return engine.Probe(ctx, e) }); err != nil {
		return err
	}
	v1, err := engine.CgroupV1(ctx, e)
	if err != nil {
		return err
	}
	k.opts.cgroupV1 = v1

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
	portFree := k.portFree
	if portFree == nil {
		portFree = checkPortFree
	}
	if err := portFree(kindListenAddress, NodePort); err != nil {
		return err
	}
	if k.opts.Engine == engine.Podman {
		if err := checkPodmanDNS(ctx); err != nil {
			return err
		}
	}
	// kind keeps the mode of a file that exists; tighten it before the
	// cluster-admin key is written into it, not only after.
	if _, err := os.Stat(k.opts.KubeconfigPath); err == nil {
		if err := secureKubeconfig(k.opts.KubeconfigPath); err != nil {
			return err
		}
	}

	steps := newSteps(progress, config(k.opts))
	p = k.kind(steps)
	done := make(chan error, 1)
	go func() { done <- p.Create(k.opts.Name, k.createOptions()...) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		return k.stopCreate(ctx, steps, done)
	}
	if err != nil {
		err = translate(err, k.opts.Engine)
		steps.finish(err)
		if verr := k.removeLeftovers(ctx); verr != nil {
			problem.Warn(progress, verr.Error())
		}
		return err
	}
	steps.finish(nil)
	return secureKubeconfig(k.opts.KubeconfigPath)
}

// removeLeftovers deletes what kind's own clean-up misses: with Podman,
// the volumes of nodes whose container was never made.
func (k *Cluster) removeLeftovers(ctx context.Context) error {
	if k.opts.Engine != engine.Podman {
		return nil
	}
	return removeLeftoverVolumes(ctx, config(k.opts))
}

// stopCreate ends a Create whose ctx was cancelled while kind runs. kind
// cannot be interrupted, but it stops at its next command once its node
// containers are gone; a stage that starts after the first deletion (the
// nodes are made after the image is pulled) triggers another one. When kind
// has returned, a last deletion removes what it left.
func (k *Cluster) stopCreate(ctx context.Context, steps *kindSteps, done <-chan error) error {
	const stopping = "Stopping: deleting the node containers kind has made so far"
	steps.interrupt(stopping)
	del := func() error {
		err := k.kind(log.NoopLogger{}).Delete(k.opts.Name, k.opts.KubeconfigPath)
		return errors.Join(err, k.removeLeftovers(ctx))
	}
	steps.onStage(func() { _ = del() })
	_ = del()
	<-done
	steps.finish(nil)
	err := problem.Run(steps.progress, "Deleting the half-made kind cluster "+k.opts.Name, del)
	if err != nil {
		return &problem.Problem{
			Summary: fmt.Sprintf("creating kind cluster %q was cancelled, and deleting what it had made failed", k.opts.Name),
			Fix:     "run `k8slab cluster down` to delete it",
			Err:     errors.Join(ctx.Err(), translate(err, k.opts.Engine)),
		}
	}
	return fmt.Errorf("creating kind cluster %q was cancelled; what it had made is deleted: %w", k.opts.Name, ctx.Err())
}

// createOptions are the options Create passes to kind.
func (k *Cluster) createOptions() []cluster.CreateOption {
	return []cluster.CreateOption{
		cluster.CreateWithV1Alpha4Config(config(k.opts)),
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
// its kubeconfig refreshed and problem.ErrAlreadyRunning.
func (k *Cluster) reuse(ctx context.Context, p *cluster.Provider) error {
	err := waitOrLeave(ctx, func() error {
		return p.ExportKubeConfig(k.opts.Name, k.opts.KubeconfigPath, false)
	})
	if err == nil {
		if err := secureKubeconfig(k.opts.KubeconfigPath); err != nil {
			return err
		}
		return fmt.Errorf("kind cluster %q, kubeconfig %s: %w", k.opts.Name, k.opts.KubeconfigPath, problem.ErrAlreadyRunning)
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
	return &problem.Problem{
		Summary: fmt.Sprintf("a kind cluster named %q exists but is not running: its node containers are stopped or it was only half created", k.opts.Name),
		Fix: fmt.Sprintf("start it with `%s start %s` and try again; if it still fails, delete the cluster and create it afresh",
			k.opts.Engine, strings.Join(nodes, " ")),
		Err: withOutput(err),
	}
}

// Delete removes the cluster's node containers and its kubeconfig. It
// finishes even when ctx is cancelled part-way (kind cannot be interrupted,
// and a cluster half deleted is worse than a few seconds' wait).
func (k *Cluster) Delete(ctx context.Context, progress func(problem.Step)) error {
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
	return problem.Run(progress, "Deleting kind cluster "+k.opts.Name, func() error {
		if err := p.Delete(k.opts.Name, k.opts.KubeconfigPath); err != nil {
			return translateDelete(err, k.opts.Engine, k.opts.Name)
		}
		return k.removeLeftovers(ctx)
	})
}

// Exists reports whether kind lists a cluster of this name.
func (k *Cluster) Exists(ctx context.Context) (bool, error) {
	return k.listed(ctx, k.kind(log.NoopLogger{}))
}

// listed reports whether kind lists a cluster of this name: whether any of
// its node containers exist, running or stopped.
func (k *Cluster) listed(ctx context.Context, p *cluster.Provider) (bool, error) {
	var names []string
	err := waitOrLeave(ctx, func() error {
		var err error
		names, err = p.List()
		return err
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return false, err
		}
		return false, translateDelete(err, k.opts.Engine, k.opts.Name)
	}
	return slices.Contains(names, k.opts.Name), nil
}

// waitOrLeave runs f, a read-only query through kind's library (which runs
// its commands without a context), and stops waiting for it when ctx ends
// so a learner's Ctrl-C is answered at once. f only reads, so leaving it
// to finish on its own changes nothing.
func waitOrLeave(ctx context.Context, f func() error) error {
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

func portInUseProblem(hostPort string, err error) *problem.Problem {
	_, port, _ := net.SplitHostPort(hostPort)
	return &problem.Problem{
		Summary: fmt.Sprintf("port %s on this machine is already in use, and the kind cluster needs it to show you lab apps at http://%s", port, hostPort),
		Fix: fmt.Sprintf("find what is using it (`lsof -i :%s` or `ss -ltnp 'sport = :%s'`) and stop it; "+
			"often it is another kind cluster, which `docker ps` lists", port, port),
		Err: err,
	}
}

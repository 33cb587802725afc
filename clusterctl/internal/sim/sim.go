// Package sim runs a simulated lab cluster: kwokctl starts a real etcd,
// kube-apiserver, kube-controller-manager and kube-scheduler as local
// processes, kwok plays the kubelets of fake nodes (with stages made from
// the course's image catalogue), and simkubelet does what kwok's stages
// cannot. It creates, repairs and deletes such a cluster, tells how each
// of its processes is, and starts and stops the supervisor that restarts
// them (clusterctl/internal/supervisor). clusterctl's NewSim, Supervise,
// RunSimKubelet and Revive are its only front.
package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/k8slab/k8slab/clusterctl/internal/kubeapi"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"github.com/k8slab/k8slab/internal/kube"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/clock"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// KubeVersion is the Kubernetes version of the simulator binaries that
// 'make sim' builds; the cache folder is named after it.
const KubeVersion = "v1.37.2"

// binaries are what kwokctl's binary runtime runs.
var binaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "kwokctl"}

// Options configures New.
type Options struct {
	// Name is the cluster's name, a DNS label of at most 40 characters.
	Name string
	// KubeconfigPath is the file Create writes the cluster's kubeconfig to.
	KubeconfigPath string
	// WorkDir is KWOK_WORKDIR: kwokctl keeps every cluster file there.
	WorkDir string
	// BinDir, when set, is where the binaries are (K8SLAB_SIM_BIN); it
	// takes precedence over CacheDir.
	BinDir string
	// CacheDir is k8slab's cache folder; the binaries 'make sim' builds
	// are in its sim/<KubeVersion>.
	CacheDir string
	// Instant makes pods start at once; by default they take realistic
	// time, so a learner can watch a rollout.
	Instant bool
	// Course is the course folder whose image catalogue decides which
	// images a node can pull; nil means the built-in course's.
	Course fs.FS
	// Supervisor is the command line of the supervisor process; empty
	// means no supervisor is started.
	Supervisor []string
	// Nodes is the node layout for a cluster that is created.
	Nodes Nodes
}

// Cluster is a simulated cluster: kwokctl runs a real etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler as local processes, and kwok
// plays the kubelets of three fake nodes, so pods become Running and Ready
// without containers.
type Cluster struct {
	name       string
	kubeconfig string
	// workDir is KWOK_WORKDIR: kwokctl keeps every cluster file there, not in
	// ~/.kwok.
	workDir string
	// binDir holds the binaries; empty means kwokctl downloads official
	// releases itself.
	binDir  string
	kwokctl string
	instant bool
	// course holds the image catalogue that decides which pulls succeed.
	course fs.FS
	// missing explains why the binaries cannot be found; it stops Create
	// but not status, env or down, which need no binaries.
	missing error
	// supervisor is the command line of the supervisor process (see
	// supervise.go); empty means no supervisor is started.
	supervisor []string
	// clock is the supervisor's: its back-off and liveness decisions are
	// made from it, so that tests can step it.
	clock clock.WithTicker
	// nodes is the cluster's node layout: the one it was created with,
	// once it exists.
	nodes Nodes
}

// New prepares a simulated cluster. Binaries are looked up in o.BinDir,
// then the cache (o.CacheDir/sim/<KubeVersion>), and kwokctl on PATH,
// which then downloads the official releases.
func New(o Options) (*Cluster, error) {
	if err := validName(o.Name); err != nil {
		return nil, err
	}
	s := &Cluster{
		name:       o.Name,
		kubeconfig: o.KubeconfigPath,
		workDir:    o.WorkDir,
		instant:    o.Instant,
		course:     o.Course,
		supervisor: o.Supervisor,
		clock:      clock.RealClock{},
		nodes:      o.Nodes,
	}
	if err := s.nodes.validate(); err != nil {
		return nil, err
	}
	// A cluster keeps the layout it was made with: a repair after a
	// reboot adds back the same nodes.
	if saved, err := readNodes(s.nodesPath()); err == nil {
		s.nodes = saved
	}
	cache := filepath.Join(o.CacheDir, "sim", KubeVersion)
	for _, dir := range []string{o.BinDir, cache} {
		if dir != "" && hasAll(dir, binaries) {
			s.binDir, s.kwokctl = dir, filepath.Join(dir, "kwokctl")
			return s, nil
		}
	}
	if o.BinDir != "" {
		s.missing = problem.Newf(nil, "K8SLAB_SIM_BIN must hold "+strings.Join(binaries, ", ")+"; 'k8slab cluster up' in a terminal offers to build them there with Go, and 'make sim' builds them in a clone",
			"K8SLAB_SIM_BIN=%s lacks the simulator's binaries", o.BinDir)
		return s, nil
	}
	path, err := exec.LookPath("kwokctl")
	if err != nil {
		s.missing = problem.Newf(err, "run 'k8slab cluster up' in a terminal: it offers to build them once with Go (needs only the Go module proxy); or run 'make sim' in a clone of k8slab, or install kwokctl (https://kwok.sigs.k8s.io) so it can download them",
			"the simulated cluster needs kwokctl and the Kubernetes binaries, and neither is in %s nor on PATH", cache)
		return s, nil
	}
	s.kwokctl = path
	return s, nil
}

func hasAll(dir string, names []string) bool {
	for _, n := range names {
		if st, err := os.Stat(filepath.Join(dir, n)); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

func (s *Cluster) Name() string           { return "sim" }
func (s *Cluster) ClusterName() string    { return s.name }
func (s *Cluster) KubeconfigPath() string { return s.kubeconfig }
func (s *Cluster) clusterDir() string     { return filepath.Join(s.workDir, "clusters", s.name) }

func (s *Cluster) Exists(context.Context) (bool, error) {
	_, err := os.Stat(filepath.Join(s.clusterDir(), "kwok.yaml"))
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// Node names follow kind's, so lessons and labs read the same on both.
func (s *Cluster) nodeNames() []string {
	names := []string{s.name + "-control-plane", s.name + "-worker"}
	for i := 2; i < s.nodes.count(); i++ {
		names = append(names, fmt.Sprintf("%s-worker%d", s.name, i))
	}
	return names
}

func (s *Cluster) Create(ctx context.Context, progress func(problem.Step)) error {
	if s.missing != nil {
		return s.missing
	}
	exists, err := s.Exists(ctx)
	if err != nil {
		return err
	}
	if exists {
		// Created before but stopped (after a reboot) or degraded (a
		// component exited): start what is missing.
		return s.repair(ctx, progress)
	}

	if err := os.MkdirAll(filepath.Dir(s.kubeconfig), 0o700); err != nil {
		return err
	}
	var args []string
	err = problem.Run(progress, "Preparing the simulator configuration", func() error {
		args, err = s.writeConfig()
		return err
	})
	if err != nil {
		return err
	}
	err = problem.Run(progress, "Starting etcd, kube-apiserver, controller-manager, scheduler and kwok", func() error {
		return s.kwokctlRun(ctx, append(args, "create", "cluster", "--kubeconfig", s.kubeconfig, "--timeout", "1m")...)
	})
	if err == nil {
		err = os.Chmod(s.kubeconfig, 0o600)
	}
	if err == nil {
		err = s.waitReady(ctx, progress)
	}
	if err == nil {
		// Nodes are Ready before the scheduler or controller-manager may
		// answer; 'up' promises all of it.
		err = s.waitHealthy(ctx, time.Minute)
	}
	if err == nil {
		err = s.ensureSupervisor()
	}
	if err != nil {
		// Never leave half a cluster running.
		_ = s.Delete(context.WithoutCancel(ctx), nil)
		return err
	}
	return nil
}

// nodesReadyTimeout bounds the wait for nodes when the caller set none.
const nodesReadyTimeout = 5 * time.Minute

func (s *Cluster) waitReady(ctx context.Context, progress func(problem.Step)) error {
	cfg, err := kubeapi.RESTConfig(s.kubeconfig, "")
	if err != nil {
		return err
	}
	err = problem.Run(progress, "Waiting for the API server", func() error {
		// kwokctl returns success even when the API server never came up.
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		for {
			if _, _, err := kubeapi.Probe(ctx, cfg); err == nil {
				return nil
			}
			select {
			case <-ctx.Done():
				return problem.Newf(ctx.Err(), "see the logs in "+filepath.Join(s.clusterDir(), "logs"),
					"the simulated cluster's API server did not become ready")
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	if err != nil {
		return err
	}
	if err := problem.Run(progress, "Adding nodes "+strings.Join(s.nodeNames(), ", "), func() error {
		return s.createNodes(ctx)
	}); err != nil {
		return err
	}
	want := len(s.nodeNames())
	return problem.Run(progress, fmt.Sprintf("Waiting for %d nodes to be Ready", want), func() error {
		// A caller with a deadline of its own decides; otherwise nodes of
		// a simulated cluster are ready in seconds on a quiet machine, and
		// five minutes leaves room for a machine busy with other clusters
		// (two minutes ran out in CI while other packages' tests ran theirs).
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, nodesReadyTimeout)
			defer cancel()
		}
		_, err := kubeapi.WaitForNodes(ctx, cfg, want)
		return err
	})
}

func (s *Cluster) createNodes(ctx context.Context) error {
	cfg, err := kubeapi.RESTConfig(s.kubeconfig, "")
	if err != nil {
		return err
	}
	nodes, err := kubeapi.NodeClient(cfg)
	if err != nil {
		return err
	}
	for i, name := range s.nodeNames() {
		obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s.fakeNode(name, i == 0, i))
		if err != nil {
			return err
		}
		cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
		_, err = nodes.Create(cctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
		cancel()
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("creating node %s: %w", name, err)
		}
	}
	return nil
}

// fakeNode is a node for kwok to manage, labelled like a kind node. The
// control plane carries kind's NoSchedule taint, so workloads land on the
// workers, as in kind.
func (s *Cluster) fakeNode(name string, controlPlane bool, index int) *corev1.Node {
	capacity, allocatable := s.nodes.resources()
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/arch":     "amd64",
				"kubernetes.io/os":       "linux",
				"kubernetes.io/hostname": name,
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: allocatable,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: "172.18.0." + strconv.Itoa(2+index)},
				{Type: corev1.NodeHostName, Address: name},
				// Where kwok, this node's kubelet, answers (see kwokctlConfig).
				{Type: corev1.NodeInternalDNS, Address: "localhost"},
			},
		},
	}
	if controlPlane {
		n.Labels["node-role.kubernetes.io/control-plane"] = ""
		n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
	}
	return n
}

func (s *Cluster) Delete(ctx context.Context, progress func(problem.Step)) error {
	exists, err := s.Exists(ctx)
	if err != nil || !exists {
		return err
	}
	if s.missing != nil {
		return s.missing
	}
	return problem.Run(progress, "Stopping and deleting the simulated cluster", func() error {
		// First the supervisor, or it restarts what kwokctl stops.
		if err := s.stopSupervisor(); err != nil {
			return err
		}
		pids := s.dropStalePIDFiles()
		if err := s.kwokctlRun(ctx, "delete", "cluster", "--kubeconfig", s.kubeconfig); err != nil {
			return err
		}
		// kwokctl sends SIGKILL and does not wait; wait so that a following
		// 'up' does not race the old processes for their ports.
		deadline := time.Now().Add(10 * time.Second)
		for _, pid := range pids {
			for processAlive(pid) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
		}
		if err := os.RemoveAll(s.clusterDir()); err != nil {
			return err
		}
		if err := os.Remove(s.stagesPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Remove(s.nodesPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Remove(s.imagesPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.RemoveAll(s.logsDir()); err != nil {
			return err
		}
		return os.Remove(filepath.Join(s.workDir, "config", s.name+".yaml"))
	})
}

// dropStalePIDFiles removes pid files whose process is not this cluster's
// (after a reboot a recorded pid may belong to anything), because kwokctl
// kills recorded pids without checking. It returns the live pids.
func (s *Cluster) dropStalePIDFiles() []int {
	files, _ := filepath.Glob(filepath.Join(s.clusterDir(), "pids", "*.pid"))
	var live []int
	for _, f := range files {
		raw, err := os.ReadFile(f)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil || perr != nil || !s.ownsProcess(pid) {
			_ = os.Remove(f)
			continue
		}
		live = append(live, pid)
	}
	return live
}

// ownsProcess reports whether pid runs a binary of this cluster: kwokctl
// starts them from links in the cluster's bin folder with the cluster's
// folder in their arguments.
func (s *Cluster) ownsProcess(pid int) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		// No /proc (not Linux): trust kwokctl's own bookkeeping.
		_, statErr := os.Stat("/proc/self")
		return statErr != nil
	}
	return namesFolder(cmdline, s.clusterDir())
}

// namesFolder reports whether a NUL-separated command line has an
// argument, or a flag's value (--data-dir=...), that is dir or a path in
// it. A substring would not do: the folder of cluster k8slab is a prefix
// of cluster k8slab-2's.
func namesFolder(cmdline []byte, dir string) bool {
	dir = filepath.Clean(dir)
	in := func(p string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	for arg := range strings.SplitSeq(string(cmdline), "\x00") {
		if in(arg) {
			return true
		}
		if _, value, ok := strings.Cut(arg, "="); ok && strings.HasPrefix(arg, "-") && in(value) {
			return true
		}
	}
	return false
}

func processAlive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	// A zombie is dead for our purposes: it holds no ports.
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// validName checks a cluster name: it becomes part of node names and file
// names, so it must be a DNS label.
func validName(name string) error {
	if len(name) == 0 || len(name) > 40 {
		return fmt.Errorf("cluster name %q must be 1 to 40 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' && i > 0 && i < len(name)-1
		if !ok {
			return fmt.Errorf("cluster name %q may use only lowercase letters, digits and inner dashes", name)
		}
	}
	return nil
}

// DefaultCacheDir is $XDG_CACHE_HOME/k8slab, falling back to
// ~/.cache/k8slab.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "k8slab"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache folder: %w (set XDG_CACHE_HOME)", err)
	}
	return filepath.Join(home, ".cache", "k8slab"), nil
}

// DefaultBinDir is where the simulator's binaries are looked for first:
// $K8SLAB_SIM_BIN, else the cache that 'make sim' fills.
func DefaultBinDir() string {
	if d := os.Getenv("K8SLAB_SIM_BIN"); d != "" {
		return d
	}
	cache, err := DefaultCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(cache, "sim", KubeVersion)
}

// Binaries names the programs a folder of simulator binaries holds.
func Binaries() []string { return slices.Clone(binaries) }

// HasBinaries reports whether dir holds every simulator binary.
func HasBinaries(dir string) bool { return dir != "" && hasAll(dir, binaries) }

package kind

import (
	"errors"
	"fmt"
	"net"
	osexec "os/exec"
	"strings"

	"github.com/k8slab/k8slab/clusterctl/internal/engine"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	kindexec "sigs.k8s.io/kind/pkg/exec"
)

// withOutput adds the tail of the output of the command kind ran, which
// kind keeps out of the error text, so --verbose shows why it failed.
func withOutput(err error) error {
	re := kindexec.RunErrorForError(err)
	if re == nil || len(strings.TrimSpace(string(re.Output))) == 0 {
		return err
	}
	return fmt.Errorf("%w\ncommand output:\n%s", err, engine.OutputTail(string(re.Output), engine.OutputTailLines))
}

// translate explains an error from kind's library as a *problem.Problem.
// kind's errors name the command that failed but keep what the command
// printed in exec.RunError.Output; the explanation is in there. Errors
// that are already Problems are returned as they are.
func translate(err error, engineName string) error {
	return translateOp(err, engineName, "")
}

// translateDelete is translate for kind's delete and list, named after the
// cluster: the same engine and machine problems apply, but an unexplained
// failure must not be called a failed create.
func translateDelete(err error, engineName, cluster string) error {
	return translateOp(err, engineName, cluster)
}

// translateOp explains err; deleting names the cluster being deleted or
// listed ("" while creating).
func translateOp(err error, engineName, deleting string) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*problem.Problem](err); ok {
		return err
	}
	e, ok := engine.SpecFor(engineName)
	if !ok {
		e = engine.Spec{Name: engineName, Display: engineName}
	}
	text := err.Error()
	re := kindexec.RunErrorForError(err)
	if re != nil {
		text += "\n" + string(re.Output)
		if errors.Is(re.Inner, osexec.ErrNotFound) {
			return engine.NoEngine(e.Name, err)
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
		return engine.NoEngine(e.Name, err)
	}
	if p := engine.Explain(text, fmt.Errorf("%w: %w", problem.ErrEngineNotRunning, verbose)); p != nil {
		return p
	}
	image := quotedAfter(text, "failed to pull image ")

	switch {
	case has("already exist for a cluster with the name", "is already in use by container"):
		name := quotedAfter(text, "cluster with the name ")
		if name == "" {
			name = DefaultClusterName
		}
		return &problem.Problem{
			Summary: fmt.Sprintf("a kind cluster named %q already exists, or containers with its node names do", name),
			Fix: fmt.Sprintf("if it is left over from an earlier k8slab run, delete it and try again; `%s ps -a --filter label=io.x-k8s.kind.cluster=%s` lists its containers "+
				"and `%s rm -f` removes them. If it is someone else's cluster, give k8slab's cluster another name", e.Name, name, e.Name),
			Err: verbose,
		}
	case has("port is already allocated", "address already in use"):
		return portInUseProblem(busyHostPort(text), verbose)
	case has("no space left on device", "eviction thresholds have been met", "ephemeral-storage"):
		return &problem.Problem{
			Summary: fmt.Sprintf("%s ran out of disk space while creating the cluster", e.Display),
			Fix: fmt.Sprintf("free some space: `%s system df` shows what %s uses and `%s system prune` removes stopped containers and unused images%s. Then try again",
				e.Name, e.Display, e.Name, desktopHint(e, "; with Docker Desktop you can also raise its disk limit in Settings → Resources")),
			Err: verbose,
		}
	case has("cannot allocate memory", "out of memory", "oomkilled", "oom-kill", "signal: killed", "exit status 137"):
		return &problem.Problem{
			Summary: fmt.Sprintf("%s ran out of memory while creating the cluster: three Kubernetes nodes need a few GB", e.Display),
			Fix: fmt.Sprintf("close memory-hungry programs, or give %s more memory (4 GB or more%s), then try again. %s",
				e.Display, moreMemoryHint(e), engine.SimHint),
			Err: verbose,
		}
	case image != "" || has("unable to find image"):
		return pullProblem(e, image, has, verbose)
	case has("rootless provider requires cgroup v2"):
		return &problem.Problem{
			Summary: fmt.Sprintf("%s runs rootless (as your user, not root) here, and kind's rootless nodes need cgroup v2, which this machine does not use", e.Display),
			Fix: fmt.Sprintf("either switch the machine to cgroup v2 (add `systemd.unified_cgroup_hierarchy=1` to the kernel command line and reboot; "+
				"https://kind.sigs.k8s.io/docs/user/rootless/ explains), or use an engine that runs as root (Docker's daemon, or %s run by root). %s",
				e.Display, engine.SimHint),
			Err: verbose,
		}
	case has("rootless provider requires setting systemd property"), has("rootless provider requires"):
		return &problem.Problem{
			Summary: fmt.Sprintf("%s runs rootless (as your user, not root) here, and systemd does not delegate the cgroup controllers kind's nodes need (cpu, memory, pids) to your user", e.Display),
			Fix: "let systemd delegate them: create /etc/systemd/system/user@.service.d/delegate.conf containing `[Service]` and `Delegate=yes`, " +
				"run `sudo systemctl daemon-reload`, then log out and back in (https://kind.sigs.k8s.io/docs/user/rootless/). " + engine.SimHint,
			Err: verbose,
		}
	case has("statfs /lib/modules", "/lib/modules: no such file"):
		return &problem.Problem{
			Summary: "this machine has no /lib/modules folder, which kind mounts into every node (read-only, for the kernel modules); it is missing inside containers and some minimal virtual machines",
			Fix:     "create it empty with `sudo mkdir -p /lib/modules` (nothing else reads it) and try again. " + engine.SimHint,
			Err:     verbose,
		}
	case has("cgroups in hybrid mode not supported"):
		return &problem.Problem{
			Summary: "Podman's container runtime, crun, cannot start the node container on this machine's cgroup layout (cgroup v1 with a cgroup v2 hierarchy alongside, \"hybrid\")",
			Fix: "make Podman use runc instead: install it (`sudo apt-get install runc` on Debian and Ubuntu), then write a file containing `[engine]` and `runtime = \"runc\"` " +
				"(for example ~/.config/containers/containers.conf, or a file you name in the CONTAINERS_CONF variable) and try again. " + engine.SimHint,
			Err: verbose,
		}
	case e.Name == engine.Podman && has("rlimit_nofile", "rlimit type 7", "setrlimit") && has("operation not permitted", "invalid argument"):
		return &problem.Problem{
			Summary: "Podman could not start the node container: it asks for a larger open-files limit (nofile) than this machine allows a process (its hard limit)",
			Fix: "give Podman no default ulimits: write a file containing `[containers]` and `default_ulimits = []` (for example ~/.config/containers/containers.conf, " +
				"or any file you then name in the CONTAINERS_CONF variable), check `podman run --rm --privileged` works again, then try again. " + engine.SimHint,
			Err: verbose,
		}
	case has("failed to init node with kubeadm", "kubelet is not healthy", "kubelet is not running", "wait-control-plane"):
		return &problem.Problem{
			Summary: "the Kubernetes control plane did not start inside its node container" + kubeadmSaid(re),
			Fix: fmt.Sprintf("this is most often too little memory or disk for %s: free some (`%s system prune` clears disk), "+
				"give %s more memory (4 GB or more), then try again. %s", e.Display, e.Name, e.Display, engine.SimHint),
			Err: verbose,
		}
	case has("failed to join node with kubeadm"):
		return &problem.Problem{
			Summary: "a worker node could not join the cluster" + kubeadmSaid(re),
			Fix: fmt.Sprintf("this is most often too little memory for three nodes: give %s more memory (4 GB or more) or close other programs, "+
				"then try again. %s", e.Display, engine.SimHint),
			Err: verbose,
		}
	}
	if deleting != "" {
		return &problem.Problem{
			Summary: fmt.Sprintf("kind could not delete or list cluster %q: %s", deleting, firstLine(err.Error())),
			Fix: fmt.Sprintf("try again; if it fails the same way, `%s ps -a --filter label=io.x-k8s.kind.cluster=%s` lists the cluster's node containers "+
				"and `%s rm -f` removes them (a container stuck in \"Stopping\" may need the engine restarted first)", e.Name, deleting, e.Name),
			Err: verbose,
		}
	}
	return &problem.Problem{
		Summary: "kind could not create the cluster: " + firstLine(err.Error()),
		Fix:     "try again; if it fails the same way, delete the cluster and create it afresh. " + engine.SimHint,
		Err:     verbose,
	}
}

// pullProblem explains why the node image could not be downloaded.
func pullProblem(e engine.Spec, image string, has func(...string) bool, err error) *problem.Problem {
	if image == "" {
		image = "the node image"
	}
	err = fmt.Errorf("%w: %w", problem.ErrNodeImagePull, err)
	switch {
	case has("manifest unknown", "not found: manifest", "manifest for"):
		return &problem.Problem{
			Summary: fmt.Sprintf("the node image %s does not exist on its registry", image),
			Fix:     fmt.Sprintf("check the node image's tag and digest, or leave the node image unset to use k8slab's default (%s)", DefaultNodeImage),
			Err:     err,
		}
	case has("pull access denied", "requested access to the resource is denied", "insufficient_scope", "unauthorized"):
		return &problem.Problem{
			Summary: fmt.Sprintf("the registry refused to give out the node image %s: the name is wrong or the image is private", image),
			Fix:     fmt.Sprintf("check the node image's name, or leave it unset to use k8slab's default (%s)", DefaultNodeImage),
			Err:     err,
		}
	case has("toomanyrequests", "rate limit"):
		return &problem.Problem{
			Summary: fmt.Sprintf("Docker Hub's download limit was reached while pulling %s", image),
			Fix:     fmt.Sprintf("wait a few hours, or sign in with `%s login` (a free account has a higher limit), then try again", e.Name),
			Err:     err,
		}
	case has("dial tcp", "no such host", "i/o timeout", "timeout exceeded", "tls handshake timeout",
		"connection refused", "connection reset", "network is unreachable", "server misbehaving", "temporary failure in name resolution"):
		return &problem.Problem{
			Summary: fmt.Sprintf("could not download the node image %s: the registry (Docker Hub) cannot be reached", image),
			Fix: fmt.Sprintf("check your internet connection, and any proxy %s needs%s, then try again. "+
				"The image is downloaded once and then reused. %s", e.Display, desktopHint(e, " (Docker Desktop: Settings → Resources → Proxies)"), engine.SimHint),
			Err: err,
		}
	}
	return &problem.Problem{
		Summary: fmt.Sprintf("could not download the node image %s", image),
		Fix:     fmt.Sprintf("run `%s pull %s` to see why, fix that, then try again. %s", e.Name, image, engine.SimHint),
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
	return net.JoinHostPort(kindListenAddress, fmt.Sprint(NodePort))
}

// desktopHint returns hint, which is about Docker Desktop, for Docker only.
func desktopHint(e engine.Spec, hint string) string {
	if e.Name != engine.Docker {
		return ""
	}
	return hint
}

// moreMemoryHint says where an engine's memory limit is set, for the
// engines that run in a VM with one.
func moreMemoryHint(e engine.Spec) string {
	switch e.Name {
	case engine.Docker:
		return "; Docker Desktop: Settings → Resources → Memory"
	case engine.Podman:
		return "; a Podman machine: `podman machine stop`, `podman machine set --memory 4096`, `podman machine start`"
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// kubeadmSaid is kubeadm's closing error line, which names the phase and
// the component that failed: what tells a slow machine (a health check
// that timed out) apart from a broken node, and which nothing else shows.
func kubeadmSaid(re *kindexec.RunError) string {
	if re == nil {
		return ""
	}
	lines := strings.Split(string(re.Output), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); strings.HasPrefix(l, "error execution phase") {
			return " (kubeadm: " + l + ")"
		}
	}
	return ""
}

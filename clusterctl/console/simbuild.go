package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/k8slab/k8slab/internal/wordwrap"

	"github.com/charmbracelet/x/term"

	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/simbuilder"
)

// ErrNotBuilt ends 'cluster up' when the learner declines the build.
var ErrNotBuilt = errors.New("no cluster was created: the simulator's binaries are missing; " +
	"'k8slab cluster up --build-sim' builds them, or start Docker or Podman for a kind cluster")

// OfferSimBuild explains what building the simulator into dir takes, asks
// on in (unless yes), and builds. A run whose in is not a terminal is
// refused without yes, rather than starting a long build nobody asked for.
func OfferSimBuild(ctx context.Context, in io.Reader, out io.Writer, dir string, yes bool) error {
	goCmd, err := simbuilder.GoCommand()
	if err != nil {
		return fmt.Errorf("the simulated cluster's binaries are not in %s, and k8slab can build them only with Go: %w", dir, err)
	}
	names := make([]string, len(simbuilder.Binaries))
	for i, b := range simbuilder.Binaries {
		names[i] = b.Name
	}
	for _, para := range []string{
		fmt.Sprintf("The simulated cluster needs %s, and they are not in %s.", strings.Join(names, ", "), dir),
		fmt.Sprintf("k8slab can build them once with your Go (%s), from the module versions it pins (Kubernetes %s). This takes %s. It needs the Go module proxy and uses %s.",
			goCmd, clusterctl.SimKubeVersion, simbuilder.EstimateText(), simbuilder.DiskNeeded),
	} {
		fmt.Fprintln(out, wrapWords(para, 79))
	}
	if !yes {
		if f, ok := in.(*os.File); ok && !term.IsTerminal(f.Fd()) {
			return errors.New("not building without a terminal to ask in: pass --build-sim to build the simulator's binaries, or start Docker or Podman for a kind cluster")
		}
		fmt.Fprint(out, "Build them now? [y/N] ")
		line, _ := bufio.NewReader(in).ReadString('\n')
		if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
			return ErrNotBuilt
		}
	}
	return buildSim(ctx, out, goCmd, dir)
}

// buildSim builds with one progress line per binary: the package count
// moves while the go command compiles, so a long build visibly advances.
func buildSim(ctx context.Context, out io.Writer, goCmd, dir string) error {
	// Interrupting cleans up the temporary module and partial output.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	pr := NewSteps(out)
	defer pr.Stop()
	var cur string
	var started time.Time
	begin := time.Now()
	err := simbuilder.Build(ctx, simbuilder.Options{OutDir: dir, Go: goCmd, Progress: func(e simbuilder.Event) {
		name := fmt.Sprintf("Building %s (%d of %d)", e.Binary, e.Index, e.Total)
		if name != cur {
			cur, started = name, time.Now()
			pr.Step(clusterctl.Step{Name: name, State: clusterctl.StepStarted})
		}
		compiled := "all packages from Go's build cache"
		if e.Packages > 0 {
			compiled = fmt.Sprintf("%d packages compiled", e.Packages)
		}
		switch {
		case e.Done:
			pr.Step(clusterctl.Step{Name: fmt.Sprintf("Built %s (%d of %d, %s)", e.Binary, e.Index, e.Total, compiled), State: clusterctl.StepDone, Elapsed: time.Since(started)})
			cur = ""
		case e.Downloading:
			pr.Update(name + ": downloading modules")
		case e.Packages > 0:
			pr.Update(name + ": " + compiled)
		}
	}})
	if err != nil {
		if cur != "" {
			pr.Step(clusterctl.Step{Name: cur, State: clusterctl.StepFailed, Elapsed: time.Since(started)})
		}
		return err
	}
	fmt.Fprintf(out, "The simulator's binaries are in %s (built in %s).\n", dir, time.Since(begin).Round(time.Second))
	return nil
}

// wrapWords wraps at spaces only, so names like kube-scheduler and paths
// stay whole for copying.
func wrapWords(s string, width int) string {
	return strings.Join(wordwrap.Lines(s, width), "\n")
}

package sim

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl/internal/problem"
	"github.com/k8slab/k8slab/clusterctl/kwok"
	"github.com/k8slab/k8slab/images"
)

func (s *Cluster) stagesPath() string {
	return filepath.Join(s.workDir, "config", s.name+"-stages.yaml")
}

// imagesPath lists the image references the stages know, one a line, for
// the cluster's controller (simkubelet), which must agree with them.
func (s *Cluster) imagesPath() string {
	return filepath.Join(s.workDir, "config", s.name+"-images.txt")
}

// knownImages reads imagesPath into images.Normalize's form; a cluster
// made before the file existed knows the built-in catalogue.
func (s *Cluster) knownImages() func(string) bool {
	known := map[string]bool{}
	raw, err := os.ReadFile(s.imagesPath())
	if err != nil {
		cat, _ := images.Load(assets.Course())
		for _, r := range cat.Refs() {
			known[r.Ref] = true
		}
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if line != "" {
			known[line] = true
		}
	}
	return func(ref string) bool { return known[images.Normalize(ref)] }
}

// writeStages writes the kwok stages generated from the course's image
// catalogue and returns the flags that hand them to kwokctl. kwokctl copies
// them into the cluster's own configuration, so they hold for the cluster's
// life: after a catalogue changes, the cluster must be created again.
func (s *Cluster) writeStages() ([]string, error) {
	var cat *images.Catalog
	if s.course != nil {
		var err error
		if cat, err = images.Load(s.course); err != nil {
			return nil, problem.Newf(err, "run 'k8slab lint' on the course folder and fix "+images.File,
				"the course's image catalogue has problems, so the simulator cannot tell which images exist")
		}
	}
	if cat == nil {
		var err error
		if cat, err = images.Load(assets.Course()); err != nil {
			return nil, fmt.Errorf("the built-in image catalogue: %w", err)
		}
	}
	profile := kwok.Realistic
	if s.instant {
		profile = kwok.Instant
	}
	data, err := kwok.Stages(cat, profile)
	if err != nil {
		return nil, fmt.Errorf("generating the simulator's stages: %w", err)
	}
	if err := os.WriteFile(s.stagesPath(), data, 0o600); err != nil {
		return nil, err
	}
	var refs strings.Builder
	for _, r := range cat.Refs() {
		refs.WriteString(r.Ref + "\n")
	}
	if err := s.writeLogs(cat.Refs()); err != nil {
		return nil, err
	}
	if err := os.WriteFile(s.imagesPath(), []byte(refs.String()), 0o600); err != nil {
		return nil, err
	}
	return []string{"--config", s.stagesPath()}, nil
}

func (s *Cluster) logsDir() string { return filepath.Join(s.workDir, "config", s.name+"-logs") }

// logFiles names the files that hold what an image's command prints when
// it runs and when it exits for want of a setting, written by writeLogs.
func (s *Cluster) logFiles(ref string) (run, exit string) {
	base := filepath.Join(s.logsDir(), strings.NewReplacer("/", "_", ":", "_").Replace(images.Normalize(ref)))
	return base + ".log", base + ".exit.log"
}

// writeLogs writes the catalogue's log lines for every image, in the CRI
// log format kwok reads (the container runtime's, which the kubelet
// serves): time, stream, "F" for a full line, the line.
func (s *Cluster) writeLogs(refs []images.Ref) error {
	if err := os.RemoveAll(s.logsDir()); err != nil {
		return err
	}
	if err := os.MkdirAll(s.logsDir(), 0o700); err != nil {
		return err
	}
	at := time.Now().UTC()
	cri := func(stream string, lines []string) []byte {
		var b strings.Builder
		for i, l := range lines {
			fmt.Fprintf(&b, "%s %s F %s\n", at.Add(time.Duration(i)*time.Millisecond).Format(time.RFC3339Nano), stream, l)
		}
		return []byte(b.String())
	}
	for _, r := range refs {
		run, exit := s.logFiles(r.Ref)
		if err := os.WriteFile(run, cri("stdout", r.Logs), 0o600); err != nil {
			return err
		}
		var exitLines []string
		if r.Exits != nil {
			exitLines = []string{r.Exits.Log}
		}
		// Entrypoints print their refusal on stderr.
		if err := os.WriteFile(exit, cri("stderr", exitLines), 0o600); err != nil {
			return err
		}
	}
	return nil
}

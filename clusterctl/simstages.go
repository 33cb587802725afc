package clusterctl

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl/kwok"
	"github.com/k8slab/k8slab/images"
)

func (s *sim) stagesPath() string {
	return filepath.Join(s.workDir, "config", s.name+"-stages.yaml")
}

// writeStages writes the kwok stages generated from the course's image
// catalogue and returns the flags that hand them to kwokctl. kwokctl copies
// them into the cluster's own configuration, so they hold for the cluster's
// life: after a catalogue changes, the cluster must be created again.
func (s *sim) writeStages() ([]string, error) {
	var cat *images.Catalog
	if s.course != nil {
		var err error
		if cat, err = images.Load(s.course); err != nil {
			return nil, problemf(err, "run 'k8slab lint' on the course folder and fix "+images.File,
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
	return []string{"--config", s.stagesPath()}, nil
}

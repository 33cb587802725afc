package clusterctl

import (
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

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

// nodeResources are what each fake node reports: a kind node on a modest
// laptop (kind nodes see the host's CPUs and memory), so the scheduler
// refuses a pod that asks for more than that. Allocatable memory keeps back
// the kubelet's default hard eviction threshold (memory.available<100Mi);
// kind turns the disk thresholds off, so storage is all allocatable.
func nodeResources() (capacity, allocatable corev1.ResourceList) {
	capacity = corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("4"),
		corev1.ResourceMemory:           resource.MustParse("8Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	allocatable = capacity.DeepCopy()
	mem := capacity.Memory().DeepCopy()
	mem.Sub(resource.MustParse("100Mi"))
	allocatable[corev1.ResourceMemory] = mem
	return capacity, allocatable
}

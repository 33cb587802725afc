package sim

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Nodes is a simulated cluster's node layout: how many nodes (the
// control plane, tainted as kind's is, and workers) and what each
// reports. Zero values are the defaults: three nodes, each a kind node on
// a modest laptop (kind nodes see the host's CPUs and memory).
type Nodes struct {
	// Count is every node, the control plane included; at least 2.
	Count int `json:"count,omitempty"`
	// CPU and Memory are each node's capacity ("16", "32Gi").
	CPU    string `json:"cpu,omitempty"`
	Memory string `json:"memory,omitempty"`
	// Pods is how many pods each node takes (kubelet's max-pods).
	Pods int `json:"pods,omitempty"`
}

// Defaults of Nodes.
const (
	DefaultCount  = 3
	DefaultCPU    = "4"
	DefaultMemory = "8Gi"
	DefaultPods   = 110
)

func (n Nodes) count() int {
	if n.Count == 0 {
		return DefaultCount
	}
	return n.Count
}

func (n Nodes) validate() error {
	if n.Count != 0 && n.Count < 2 {
		return fmt.Errorf("--nodes %d: a simulated cluster has a control plane and at least one worker; give 2 or more", n.Count)
	}
	if n.Count > 200 {
		return fmt.Errorf("--nodes %d: at most 200; make each node bigger with --node-cpu, --node-memory and --node-pods instead", n.Count)
	}
	for _, q := range []struct{ flag, value string }{{"--node-cpu", n.CPU}, {"--node-memory", n.Memory}} {
		if q.value == "" {
			continue
		}
		v, err := resource.ParseQuantity(q.value)
		if err != nil || v.Sign() <= 0 {
			return fmt.Errorf("%s %q: give a positive amount, such as 16 (CPUs) or 32Gi (memory)", q.flag, q.value)
		}
	}
	if n.Pods < 0 {
		return fmt.Errorf("--node-pods %d: give a positive number", n.Pods)
	}
	return nil
}

// resources are what each fake node reports. Allocatable memory keeps
// back the kubelet's default hard eviction threshold
// (memory.available<100Mi); kind turns the disk thresholds off, so
// storage is all allocatable.
func (n Nodes) resources() (capacity, allocatable corev1.ResourceList) {
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	pods := n.Pods
	if pods == 0 {
		pods = DefaultPods
	}
	capacity = corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse(or(n.CPU, DefaultCPU)),
		corev1.ResourceMemory:           resource.MustParse(or(n.Memory, DefaultMemory)),
		corev1.ResourcePods:             *resource.NewQuantity(int64(pods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	allocatable = capacity.DeepCopy()
	mem := capacity.Memory().DeepCopy()
	mem.Sub(resource.MustParse("100Mi"))
	allocatable[corev1.ResourceMemory] = mem
	return capacity, allocatable
}

func (s *Cluster) nodesPath() string {
	return filepath.Join(s.workDir, "config", s.name+"-nodes.json")
}

func readNodes(path string) (Nodes, error) {
	var n Nodes
	data, err := os.ReadFile(path)
	if err != nil {
		return n, err
	}
	if err := json.Unmarshal(data, &n); err != nil {
		return n, err
	}
	return n, n.validate()
}

func writeNodes(path string, n Nodes) error {
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

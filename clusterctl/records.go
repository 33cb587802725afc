package clusterctl

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/k8slab/k8slab/internal/atomicfile"
)

// Record is what k8slab remembers about a cluster it created; a cluster
// without a record is never deleted.
type Record struct {
	Name       string    `json:"name"`
	Provider   string    `json:"provider"`
	Kubeconfig string    `json:"kubeconfig"`
	CreatedAt  time.Time `json:"createdAt"`
}

type recordsFile struct {
	Version  int      `json:"version"`
	Clusters []Record `json:"clusters"`
}

const recordsVersion = 1

// Records is the list of clusters k8slab created, kept in clusters.json in
// k8slab's state folder.
type Records struct {
	path string
	mu   sync.Mutex
}

// NewRecords uses clusters.json in dir.
func NewRecords(dir string) *Records {
	return &Records{path: filepath.Join(dir, "clusters.json")}
}

func (r *Records) load() (recordsFile, error) {
	raw, err := os.ReadFile(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return recordsFile{Version: recordsVersion}, nil
	}
	if err != nil {
		return recordsFile{}, err
	}
	var f recordsFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return recordsFile{}, fmt.Errorf("%s is unreadable (%v); k8slab will not delete any cluster until it is fixed or removed", r.path, err)
	}
	if f.Version > recordsVersion {
		return recordsFile{}, fmt.Errorf("%s is from a newer k8slab (schema %d); upgrade k8slab", r.path, f.Version)
	}
	return f, nil
}

// Get returns the record of the named cluster of a provider.
func (r *Records) Get(provider, name string) (Record, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.load()
	if err != nil {
		return Record{}, false, err
	}
	for _, c := range f.Clusters {
		if c.Provider == provider && c.Name == name {
			return c, true, nil
		}
	}
	return Record{}, false, nil
}

// All returns every record.
func (r *Records) All() ([]Record, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, err := r.load()
	return f.Clusters, err
}

// Put adds or replaces a record.
func (r *Records) Put(rec Record) error {
	return r.change(func(f *recordsFile) {
		f.Clusters = slices.DeleteFunc(f.Clusters, func(c Record) bool { return c.Provider == rec.Provider && c.Name == rec.Name })
		f.Clusters = append(f.Clusters, rec)
	})
}

// Remove forgets a record.
func (r *Records) Remove(provider, name string) error {
	return r.change(func(f *recordsFile) {
		f.Clusters = slices.DeleteFunc(f.Clusters, func(c Record) bool { return c.Provider == provider && c.Name == name })
	})
}

func (r *Records) change(f func(*recordsFile)) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	rf, err := r.load()
	if err != nil {
		return err
	}
	f(&rf)
	rf.Version = recordsVersion
	raw, err := json.MarshalIndent(rf, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(r.path, append(raw, '\n'), 0o600)
}

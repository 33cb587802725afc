package clusterctl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeProvider records calls; exists and running model a cluster's state.
type fakeProvider struct {
	name, cluster string
	exists        bool
	created       int
	deleted       int
	kubeconfig    string
}

func (f *fakeProvider) Name() string           { return f.name }
func (f *fakeProvider) ClusterName() string    { return f.cluster }
func (f *fakeProvider) KubeconfigPath() string { return f.kubeconfig }
func (f *fakeProvider) Exists(context.Context) (bool, error) {
	return f.exists, nil
}
func (f *fakeProvider) Create(context.Context, Progress) error {
	if f.exists {
		return ErrAlreadyRunning
	}
	f.exists = true
	f.created++
	return os.WriteFile(f.kubeconfig, []byte("kubeconfig"), 0o600)
}
func (f *fakeProvider) Delete(context.Context, Progress) error {
	f.exists = false
	f.deleted++
	return nil
}

func newFake(t *testing.T, exists bool) (*fakeProvider, *Records) {
	dir := t.TempDir()
	return &fakeProvider{name: Sim, cluster: "k8slab", exists: exists, kubeconfig: filepath.Join(dir, "kc")}, NewRecords(dir)
}

func TestUpRecordsAndIsIdempotent(t *testing.T) {
	p, records := newFake(t, false)
	if err := Up(context.Background(), p, records, nil); err != nil {
		t.Fatal(err)
	}
	if rec, ok, _ := records.Get(Sim, "k8slab"); !ok || rec.Kubeconfig != p.kubeconfig {
		t.Fatalf("created cluster not recorded: %+v", rec)
	}
	if err := Up(context.Background(), p, records, nil); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second up = %v, want ErrAlreadyRunning", err)
	}
	if p.created != 1 {
		t.Errorf("created %d times", p.created)
	}
}

func TestUpRefusesToAdoptAForeignCluster(t *testing.T) {
	p, records := newFake(t, true) // running, but k8slab has no record of it
	err := Up(context.Background(), p, records, nil)
	var prob *Problem
	if !errors.As(err, &prob) || !strings.Contains(prob.Summary, "was not created by k8slab") {
		t.Fatalf("up on a foreign cluster = %v", err)
	}
	if _, ok, _ := records.Get(Sim, "k8slab"); ok {
		t.Error("a foreign cluster was recorded as k8slab's")
	}
}

func TestFailedUpForgetsTheClusterItDidNotMake(t *testing.T) {
	p, records := newFake(t, false)
	failing := &failingProvider{fakeProvider: p}
	if err := Up(context.Background(), failing, records, nil); err == nil {
		t.Fatal("up succeeded")
	}
	if _, ok, _ := records.Get(Sim, "k8slab"); ok {
		t.Error("a cluster that was never made is recorded")
	}
}

type failingProvider struct{ *fakeProvider }

func (f *failingProvider) Create(context.Context, Progress) error { return errors.New("boom") }

func TestDownRefusesForeignCluster(t *testing.T) {
	p, records := newFake(t, true)
	err := Down(context.Background(), p, records, nil)
	if err == nil || !strings.Contains(err.Error(), "will not delete it") {
		t.Fatalf("down on a foreign cluster = %v", err)
	}
	if p.deleted != 0 || !p.exists {
		t.Error("a cluster k8slab did not create was deleted")
	}
}

func TestDownDeletesOwnClusterAndForgetsIt(t *testing.T) {
	p, records := newFake(t, false)
	if err := Up(context.Background(), p, records, nil); err != nil {
		t.Fatal(err)
	}
	if err := Down(context.Background(), p, records, nil); err != nil {
		t.Fatal(err)
	}
	if p.deleted != 1 {
		t.Error("own cluster not deleted")
	}
	if _, err := os.Stat(p.kubeconfig); !errors.Is(err, os.ErrNotExist) {
		t.Error("kubeconfig left behind")
	}
	if _, ok, _ := records.Get(Sim, "k8slab"); ok {
		t.Error("record kept after delete")
	}
	// Down again: nothing there, nothing to do.
	if err := Down(context.Background(), p, records, nil); err != nil || p.deleted != 1 {
		t.Errorf("second down = %v, deletes = %d", err, p.deleted)
	}
}

func TestExistingIsNeverCreatedOrDeleted(t *testing.T) {
	dir := t.TempDir()
	kc := filepath.Join(dir, "config")
	os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: workshop, context: {cluster: c, user: u}}]
current-context: workshop
`), 0o600)
	p, err := NewExisting(kc, "")
	if err != nil {
		t.Fatal(err)
	}
	records := NewRecords(dir)
	if err := Up(context.Background(), p, records, nil); err == nil {
		t.Error("up created an existing cluster")
	}
	if err := Down(context.Background(), p, records, nil); err == nil || !strings.Contains(err.Error(), "never deletes") {
		t.Errorf("down on an existing cluster = %v", err)
	}
	if _, err := NewExisting(kc, "nope"); err == nil || !strings.Contains(err.Error(), `no context "nope"`) {
		t.Errorf("missing context: %v", err)
	}
	st := StatusOf(context.Background(), p, "")
	if !st.Exists || st.Reachable || st.Err == nil {
		t.Errorf("status of an unreachable existing cluster = %+v", st)
	}
}

func TestSelect(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	fakeSimBinaries(t, bin)
	base := Config{StateDir: filepath.Join(dir, "state"), CacheDir: filepath.Join(dir, "cache"), SimBinDir: bin}

	c := base
	c.Provider = Sim
	p, _, err := Select(context.Background(), c)
	if err != nil || p.Name() != Sim || p.ClusterName() != DefaultName {
		t.Fatalf("sim: %v %v", p, err)
	}
	if got := p.KubeconfigPath(); got != filepath.Join(base.StateDir, "clusters", "sim-k8slab.kubeconfig") {
		t.Errorf("kubeconfig path %s is not k8slab's own file", got)
	}

	c.Provider = "docker"
	if _, _, err := Select(context.Background(), c); err == nil || !strings.Contains(err.Error(), "use auto, kind, sim or existing") {
		t.Errorf("unknown provider: %v", err)
	}

	// auto prefers the cluster k8slab created before, whatever engines say.
	NewRecords(base.StateDir).Put(Record{Name: DefaultName, Provider: Sim})
	c = base
	c.Provider = Auto
	p, reason, err := Select(context.Background(), c)
	if err != nil || p.Name() != Sim || !strings.Contains(reason, "created earlier") {
		t.Errorf("auto with a recorded sim cluster: %v %q %v", p, reason, err)
	}

	c = base
	c.Provider, c.Name = Sim, "Bad_Name"
	if _, _, err := Select(context.Background(), c); err == nil {
		t.Error("an invalid cluster name was accepted")
	}

	// Missing binaries stop creation, with advice, but not status.
	c = base
	c.Provider, c.SimBinDir = Sim, filepath.Join(dir, "empty")
	p, _, err = Select(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Create(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "K8SLAB_SIM_BIN") {
		t.Errorf("empty K8SLAB_SIM_BIN: %v", err)
	}
	if st := StatusOf(context.Background(), p, ""); st.Exists || st.Err != nil {
		t.Errorf("status without binaries = %+v", st)
	}
}

func TestRecordsRefuseCorruptFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "clusters.json"), []byte("{oops"), 0o600)
	r := NewRecords(dir)
	if _, _, err := r.Get(Sim, "k8slab"); err == nil || !strings.Contains(err.Error(), "will not delete any cluster") {
		t.Errorf("corrupt records: %v", err)
	}
	if err := r.Put(Record{Name: "x", Provider: Sim}); err == nil {
		t.Error("a corrupt record file was overwritten")
	}
}

// pullFailing is kind on a machine with a container engine but no
// registry: creating the cluster fails to pull the node image.
type pullFailing struct{ *fakeProvider }

func (p pullFailing) Create(context.Context, Progress) error {
	return &Problem{Summary: "could not download the node image kindest/node:v1.37.2: the registry (Docker Hub) cannot be reached",
		Fix: "check your internet connection, then try again", Err: fmt.Errorf("%w: dial tcp: i/o timeout", ErrNodeImagePull)}
}

func TestAutoFallsBackToTheSimulatorWhenKindCannotPull(t *testing.T) {
	dir := t.TempDir()
	records := NewRecords(dir)
	kind := pullFailing{&fakeProvider{name: Kind, cluster: "k8slab", kubeconfig: filepath.Join(dir, "kind-kc")}}
	sim := &fakeProvider{name: Sim, cluster: "k8slab", kubeconfig: filepath.Join(dir, "sim-kc")}
	var steps []Step
	got, err := UpOrFallBack(t.Context(), kind, records, func(s Step) { steps = append(steps, s) }, func() Provider { return sim })
	if err != nil || got != sim || sim.created != 1 {
		t.Fatalf("fallback: %v, %v, sim created %d times", got, err, sim.created)
	}
	if _, ok, _ := records.Get(Kind, "k8slab"); ok {
		t.Error("the kind cluster that was never made is still recorded")
	}
	if _, ok, _ := records.Get(Sim, "k8slab"); !ok {
		t.Error("the simulated cluster is not recorded")
	}
	if len(steps) == 0 || !strings.Contains(steps[0].Name, "the registry (Docker Hub) cannot be reached; making a simulated cluster instead") {
		t.Errorf("the fallback is not explained: %+v", steps)
	}

	// Without the simulator's binaries: the error says --provider sim.
	kind2 := pullFailing{&fakeProvider{name: Kind, cluster: "k8slab", kubeconfig: filepath.Join(dir, "kind-kc")}}
	_, err = UpOrFallBack(t.Context(), kind2, NewRecords(t.TempDir()), nil, func() Provider { return nil })
	if !errors.Is(err, ErrNodeImagePull) || !strings.Contains(err.Error(), "--provider sim") {
		t.Errorf("no simulator: %v", err)
	}

	// Any other failure of kind is kind's to explain; no fallback.
	other := &failingProvider{fakeProvider: &fakeProvider{name: Kind, cluster: "k8slab", kubeconfig: filepath.Join(dir, "kc3")}}
	sim.created = 0
	if _, err := UpOrFallBack(t.Context(), other, NewRecords(t.TempDir()), nil, func() Provider { return sim }); err == nil || sim.created != 0 {
		t.Errorf("fell back on another failure: %v, sim created %d", err, sim.created)
	}
}

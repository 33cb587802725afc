package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/workshop"
)

// learnerKubeconfig writes a kubeconfig shaped like the ones workshop
// init writes, marker included.
func learnerKubeconfig(t *testing.T, marker string) string {
	t.Helper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["c"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["u"] = &clientcmdapi.AuthInfo{Token: "t"}
	ctx := clientcmdapi.NewContext()
	ctx.Cluster, ctx.AuthInfo, ctx.Namespace = "c", "u", "kubecon-ada-pods"
	if marker != "" {
		ctx.Extensions[workshop.MarkerExtension] = &runtime.Unknown{Raw: []byte(marker), ContentType: runtime.ContentTypeJSON}
	}
	cfg.Contexts["k"] = ctx
	cfg.CurrentContext = "k"
	path := filepath.Join(t.TempDir(), "learner.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWorkshopLearnerLabsBindToTheirNamespaces(t *testing.T) {
	g := &globals{}
	lab := &labfile.Lab{ID: "deployments", Namespace: "lab-deployments"}
	learner := &target{kubeconfig: learnerKubeconfig(t, `{"workshop":"kubecon","learner":"ada"}`)}
	if got := g.labNamespace(learner, lab); got != "kubecon-ada-deployments" {
		t.Errorf("learner's namespace = %q", got)
	}
	learner.namespace = "elsewhere"
	if got := g.labNamespace(learner, lab); got != "elsewhere" {
		t.Errorf("--namespace must win, got %q", got)
	}
	plain := &target{kubeconfig: learnerKubeconfig(t, "")}
	if got := g.labNamespace(plain, lab); got != "lab-deployments" {
		t.Errorf("a kubeconfig without the marker gave %q", got)
	}
}

func TestLabSolveRefusedForWorkshopLearners(t *testing.T) {
	kc := learnerKubeconfig(t, `{"workshop":"kubecon","learner":"ada"}`)
	_, err := run(t, "", "--state-dir", stateDir(t), "lab", "solve", "deployments", "--kubeconfig", kc)
	if err == nil || !strings.Contains(err.Error(), "learner ada solves the lab themselves") {
		t.Errorf("err = %v", err)
	}
}

func TestWorkshopCommandsRefuseBadInput(t *testing.T) {
	roster := filepath.Join(t.TempDir(), "class.txt")
	if err := os.WriteFile(roster, []byte("Sam\nSam Pods\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"workshop", "init", "kubecon"}, "--learners N or --roster FILE"},
		{[]string{"workshop", "init", "kubecon", "--learners", "3", "--roster", "x.txt"}, "not both"},
		{[]string{"workshop", "init", "Kube_Con", "--learners", "3"}, `workshop name "Kube_Con"`},
		{[]string{"workshop", "init", "kubecon", "--roster", "/does/not/exist"}, "--roster"},
		{[]string{"workshop", "status", "kubecon", "--format", "xlsx"}, "use csv, json, junit"},
		{[]string{"workshop", "status", "kubecon"}, "needs a terminal"},
		// Sam's pods lab would be Sam Pods' home: refused before any
		// cluster is reached.
		{[]string{"workshop", "init", "kubecon", "--roster", roster}, "learners sam and sam-pods would both get namespace kubecon-sam-pods"},
		{[]string{"workshop", "revoke", "kubecon"}, "requires at least 2 arg"},
	} {
		_, err := run(t, "", append([]string{"--state-dir", stateDir(t)}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}

// The root help tells a workshop learner to run 'k8slab --kubeconfig
// learner-01.kubeconfig'; the flag must reach the lab commands whichever
// side of them it is written.
func TestKubeconfigBeforeTheLabCommand(t *testing.T) {
	kc := learnerKubeconfig(t, `{"workshop":"kubecon","learner":"ada"}`)
	_, err := run(t, "", "--state-dir", stateDir(t), "--kubeconfig", kc, "lab", "open", "health")
	if err == nil || !strings.Contains(err.Error(), "opens in a terminal") {
		t.Errorf("lab open after --kubeconfig: err = %v, want the no-terminal refusal", err)
	}
	root := newRootCmd(strings.NewReader(""), io.Discard, io.Discard)
	args := []string{"--kubeconfig", kc, "--context", "k", "lab", "open", "health"}
	cmd, rest, err := root.Find(args)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("lab open: %v (rest %v)", err, rest)
	}
	if got := root.PersistentFlags().Lookup("kubeconfig").Value.String(); got != kc {
		t.Errorf("the course's kubeconfig = %q, want %q", got, kc)
	}
	// A command with a --kubeconfig of its own takes the one before it.
	_, err = run(t, "", "--state-dir", stateDir(t), "--kubeconfig", kc, "lab", "solve", "deployments")
	if err == nil || !strings.Contains(err.Error(), "learner ada solves the lab themselves") {
		t.Errorf("lab solve after --kubeconfig: err = %v", err)
	}
}

package labsession

import (
	"testing"

	"github.com/k8slab/k8slab/labfile"
)

// On a simulated cluster the NodePort question cannot be passed by typing
// the expected text; other answers, and every answer on kind, are kept.
func TestGradableAnswersDropWhatTheClusterCannotShow(t *testing.T) {
	lab := &labfile.Lab{Tasks: []labfile.Task{
		{ID: "reach-nodeport", Features: []labfile.Feature{labfile.NodePortFromHost}},
		{ID: "endpointslice-name"},
	}}
	answers := map[string]string{"reach-nodeport": "Welcome to nginx!", "endpointslice-name": "web-abcde"}
	got := gradableAnswers(lab, answers, labfile.SimulatedClusterLacks)
	if _, ok := got["reach-nodeport"]; ok || got["endpointslice-name"] != "web-abcde" {
		t.Errorf("sim: %v", got)
	}
	if got := gradableAnswers(lab, answers, nil); len(got) != 2 {
		t.Errorf("kind: %v", got)
	}
	if len(answers) != 2 {
		t.Error("the caller's answers were changed")
	}
}

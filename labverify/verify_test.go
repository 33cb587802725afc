package labverify

import (
	"strings"
	"testing"
)

func TestNamespaceNameFitsKubernetes(t *testing.T) {
	long := strings.Repeat("a", 63)
	for _, base := range []string{"lab-pods", long, strings.Repeat("ab-", 21)} {
		got := namespaceName(base, "abcdef", 12)
		if len(got) > 63 || strings.Contains(got, "--") || !strings.HasSuffix(got, "-vabcdef-12") {
			t.Errorf("namespaceName(%q) = %q", base, got)
		}
	}
}

func TestFailureNamesTaskAndMistake(t *testing.T) {
	f := Failure{Lab: "pods", Task: "web-pod", Mistake: "Forgot the label", Phase: "mistake", Message: "the checks accept this mistake"}
	want := `lab pods, task web-pod, mistake "Forgot the label": the checks accept this mistake`
	if f.String() != want {
		t.Errorf("got %q, want %q", f.String(), want)
	}
}

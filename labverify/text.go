package labverify

import (
	"fmt"
	"io"
	"time"
)

// WriteText writes the report as 'k8slab lab verify' shows it: what was
// skipped, PASS or FAIL with the time it took, and each broken promise.
func (r LabReport) WriteText(w io.Writer) {
	for _, sk := range r.Skipped {
		fmt.Fprintf(w, "  skipped %s\n", sk)
	}
	verdict := "PASS"
	if !r.Passed() {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "%s %s (%s)\n", verdict, r.Lab, r.Duration.Round(100*time.Millisecond))
	for _, f := range r.Failures {
		fmt.Fprintf(w, "  - %s\n", f)
	}
}

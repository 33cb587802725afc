package workshop

import (
	"slices"
	"testing"
)

// ResetLab waits only for kinds it deleted: waiting for one it never
// deletes would hang until the deadline whenever the lab has one.
func TestResetAwaitsOnlyWhatItDeletes(t *testing.T) {
	for _, gvr := range awaitedGone {
		if !slices.Contains(resettable, gvr) {
			t.Errorf("ResetLab waits for %s to go but never deletes them", gvr.Resource)
		}
	}
}

package labsession

import (
	"context"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/timeline"
)

// WatchTimeline feeds the lab screen's timeline from the cache the lab's
// grading and map share: it adds only a watch of the namespace's events,
// and reads the rest from informers already there.
func (s *Service) WatchTimeline(ctx context.Context, lab *labfile.Lab, onChange func([]timeline.Action)) error {
	w, err := s.watch(lab)
	if err != nil {
		return err
	}
	defer w.release()
	return timeline.Follow(ctx, w.cache, w.ns, timeline.DefaultActions, onChange)
}

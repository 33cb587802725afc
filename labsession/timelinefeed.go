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
	conn, err := s.connect()
	if err != nil {
		return err
	}
	ns := s.Namespace(lab)
	cache, release := s.acquireCache(conn, ns)
	defer release()
	return timeline.Follow(ctx, cache, ns, timeline.DefaultActions, onChange)
}

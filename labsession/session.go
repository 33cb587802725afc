// Package labsession connects the TUI's lab screen to the cluster: it
// starts, resets and grades labs, feeds the cluster map, and opens the
// learner's shell. Grading and the map of one lab namespace share one
// informer cache, so each resource is listed and watched once.
package labsession

import (
	"context"
	"errors"
	"slices"
	"sync"

	"k8s.io/client-go/dynamic"

	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/labfile"
)

// Service is the lab screen's view of the cluster. Which cluster is
// decided by resolve on every connection, so a cluster made after the
// TUI started (or a kubeconfig that changed) is picked up.
type Service struct {
	resolve  func() clusterctl.Target
	opts     Options
	stateDir string

	// dial makes a connection; tests replace it with fake clients.
	dial func(t clusterctl.Target) (*connection, error)

	mu     sync.Mutex
	conn   *connection
	caches map[string]*sharedCache
}

// connection is a client for one kubeconfig and context.
type connection struct {
	kubeconfig, context string
	// client answers one-off requests with a deadline; watchClient has no
	// deadline, as a watch is one long request that must not be cut.
	client, watchClient dynamic.Interface
}

type sharedCache struct {
	conn  *connection
	cache *clustercache.Cache
	users int
}

// Options adapt the service to where labs run.
type Options struct {
	// Namespace picks a lab's namespace (--namespace, a workshop
	// learner's own); nil means the lab's default.
	Namespace func(*labfile.Lab) string
	// Reset replaces labenv.ResetLab, for learners who may not delete and
	// recreate their namespaces.
	Reset func(ctx context.Context, client dynamic.Interface, lab *labfile.Lab, ns string) error
	// Lacks are what the learner cannot do whatever the cluster
	// (labfile.WorkshopLearnerLacks for a workshop learner): answers to
	// questions needing them are not graded.
	Lacks []labfile.Feature
}

// New returns a service for the cluster resolve picks; stateDir is where
// the shell's kubeconfig copies go.
func New(resolve func() clusterctl.Target, stateDir string, opts Options) *Service {
	return &Service{resolve: resolve, opts: opts, stateDir: stateDir, dial: dial, caches: map[string]*sharedCache{}}
}

// Namespace is where lab runs.
func (s *Service) Namespace(lab *labfile.Lab) string {
	if s.opts.Namespace != nil {
		if ns := s.opts.Namespace(lab); ns != "" {
			return ns
		}
	}
	return lab.Namespace
}

// connect returns the connection to the cluster the resolver picks now.
func (s *Service) connect() (*connection, error) {
	t := s.resolve()
	if t.Own && t.Kubeconfig == "" {
		return nil, clusterctl.ErrNoCluster
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.conn; c != nil && c.kubeconfig == t.Kubeconfig && c.context == t.Context {
		return c, nil
	}
	c, err := s.dial(t)
	if err != nil {
		return nil, err
	}
	s.conn = c
	return c, nil
}

func dial(t clusterctl.Target) (*connection, error) {
	cfg, err := clusterctl.RESTConfig(t.Kubeconfig, t.Context)
	if err != nil {
		return nil, err
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	watchClient, err := clustercache.WatchClient(cfg)
	if err != nil {
		return nil, err
	}
	return &connection{kubeconfig: t.Kubeconfig, context: t.Context, client: client, watchClient: watchClient}, nil
}

// acquireCache returns the namespace's shared cache for conn, making it on
// first use; release closes it when its last user is done.
func (s *Service) acquireCache(conn *connection, ns string) (c *clustercache.Cache, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, ok := s.caches[ns]
	if !ok || sc.conn != conn {
		sc = &sharedCache{conn: conn, cache: clustercache.NewCache(conn.watchClient, nil)}
		s.caches[ns] = sc
	}
	sc.users++
	var once sync.Once
	return sc.cache, func() {
		once.Do(func() {
			s.mu.Lock()
			sc.users--
			last := sc.users == 0
			if last && s.caches[ns] == sc {
				delete(s.caches, ns)
			}
			s.mu.Unlock()
			if last {
				sc.cache.Close()
			}
		})
	}
}

// watching is what a stream of the lab screen reads through: the
// connection, the lab's namespace and its shared cache, which release
// gives back.
type watching struct {
	conn    *connection
	ns      string
	cache   *clustercache.Cache
	release func()
}

// watch connects and takes the shared cache of lab's namespace.
func (s *Service) watch(lab *labfile.Lab) (watching, error) {
	conn, err := s.connect()
	if err != nil {
		return watching{}, err
	}
	ns := s.Namespace(lab)
	cache, release := s.acquireCache(conn, ns)
	return watching{conn: conn, ns: ns, cache: cache, release: release}, nil
}

// Watch grades lab now and after every change until ctx ends.
func (s *Service) Watch(ctx context.Context, lab *labfile.Lab, answers map[string]string, onResult func(checks.LabResult)) error {
	w, err := s.watch(lab)
	if err != nil {
		return err
	}
	defer w.release()
	lacks := s.opts.Lacks
	if s.resolve().Simulated() {
		lacks = append(slices.Clone(lacks), labfile.SimulatedClusterLacks...)
	}
	if len(lacks) > 0 {
		answers = gradableAnswers(lab, answers, lacks)
	}
	port, err := labenv.NodePort(ctx, w.conn.client, lab, w.ns)
	if err != nil {
		return err
	}
	return checks.NewEngine(w.conn.client).Watch(ctx, lab, checks.Options{Namespace: w.ns, NodePort: port, Answers: answers, Cache: w.cache}, onResult)
}

// gradableAnswers drops the answers to questions about what the cluster
// lacks (reaching a NodePort from the host, on a simulated cluster): the
// cluster cannot show the answer, so typing the expected text must not
// pass the task. 'k8slab check' leaves such tasks out the same way.
func gradableAnswers(lab *labfile.Lab, answers map[string]string, lacks []labfile.Feature) map[string]string {
	out := map[string]string{}
	for id, a := range answers {
		if t := lab.Task(id); t != nil && len(lab.Lacking(t, lacks)) > 0 {
			continue
		}
		out[id] = a
	}
	return out
}

// Start creates the lab namespace and applies the lab's setup.
func (s *Service) Start(ctx context.Context, lab *labfile.Lab) error {
	conn, err := s.connect()
	if err != nil {
		return err
	}
	return labenv.StartLab(ctx, conn.client, lab, s.Namespace(lab))
}

// Reset makes the lab namespace afresh.
func (s *Service) Reset(ctx context.Context, lab *labfile.Lab) error {
	conn, err := s.connect()
	if err != nil {
		return err
	}
	if s.opts.Reset != nil {
		return s.opts.Reset(ctx, conn.client, lab, s.Namespace(lab))
	}
	return labenv.ResetLab(ctx, conn.client, lab, s.Namespace(lab))
}

// errNoStateDir guards the shell hand-off, which writes a kubeconfig copy.
var errNoStateDir = errors.New("internal: the lab service has no state folder")

// errBadShape is an object the converter could not read.
var errBadShape = errors.New("object of an unexpected shape")

// Package simkubelet does for the simulated cluster what kwok's stages
// cannot, because a stage sees only the object it changes: it looks at
// other objects, and writes some. For every pod that has run it keeps a
// kwok Logs object naming, per container, the file of the image's log
// lines from the catalogue, so 'kubectl logs' shows them. A container whose environment names a ConfigMap or Secret
// key that does not exist waits with CreateContainerConfigError, as the
// kubelet reports it, until the key appears. The stages hold back every
// pod that has such references (kwok's jq "configHeld") until this
// controller has judged it: it writes ContainerCreating to let kwok start
// the pod, or CreateContainerConfigError to keep it waiting.
//
// The cluster's supervisor runs it, next to the processes it restarts.
package simkubelet

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/dynamic"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
)

// Reasons the kubelet writes into a waiting container's state
// (kuberuntime_container.go ErrCreateContainerConfig, kubelet_pods.go).
const (
	ReasonConfigError = "CreateContainerConfigError"
	ReasonCreating    = "ContainerCreating"
)

// Options says what the controller needs besides the API.
type Options struct {
	// Known reports whether the catalogue knows an image: a pod with an
	// unknown one fails to pull first (kwok's stages), as the kubelet
	// pulls before it builds the configuration.
	Known func(image string) bool
	// LogFiles names the files that hold what an image's command prints
	// when it runs and when it exits for want of a setting; ok is false
	// for an image the catalogue does not know.
	LogFiles func(image string) (run, exit string, ok bool)
	// APITimeout bounds each write.
	APITimeout time.Duration
	// Log receives one line per decision worth knowing.
	Log io.Writer
}

// coreClient is a REST client for the core API group (/api/v1) whose
// scheme holds that group alone. The typed clientset, and the informer
// factory built on it, would link client-go's scheme of every API group:
// its registration runs at the start of every k8slab command, and was
// the largest part of package init (650 kB, 5,700 allocations).
func coreClient(cfg *rest.Config) (*rest.RESTClient, error) {
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	c.GroupVersion = &corev1.SchemeGroupVersion
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	if c.UserAgent == "" {
		c.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	return rest.RESTClientFor(c)
}

// informer watches one core resource in every namespace, indexed by
// namespace as the informer factory's are.
func informer(rc *rest.RESTClient, resource string, obj runtime.Object) cache.SharedIndexInformer {
	lw := cache.NewListWatchFromClient(rc, resource, metav1.NamespaceAll, fields.Everything())
	return cache.NewSharedIndexInformer(lw, obj, 0, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
}

// Run watches pods, ConfigMaps and Secrets until ctx ends. cfg should
// have no timeout: the watches use it.
func Run(ctx context.Context, cfg *rest.Config, dyn dynamic.Interface, o Options) error {
	if o.APITimeout == 0 {
		o.APITimeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	rc, err := coreClient(cfg)
	if err != nil {
		return err
	}
	podInf := informer(rc, "pods", &corev1.Pod{})
	cmInf := informer(rc, "configmaps", &corev1.ConfigMap{})
	secretInf := informer(rc, "secrets", &corev1.Secret{})
	c := &controller{
		core:     rc,
		dyn:      dyn,
		o:        o,
		pods:     listersv1.NewPodLister(podInf.GetIndexer()),
		cms:      listersv1.NewConfigMapLister(cmInf.GetIndexer()),
		secrets:  listersv1.NewSecretLister(secretInf.GetIndexer()),
		queue:    workqueue.NewTypedRateLimitingQueue(workqueue.NewTypedItemExponentialFailureRateLimiter[string](50*time.Millisecond, 5*time.Second)),
		reported: map[string]string{},
		logs:     map[string][]any{},
	}
	podKey := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			c.queue.Add(key)
		}
	}
	if _, err := podInf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    podKey,
		UpdateFunc: func(_, obj any) { podKey(obj) },
		DeleteFunc: func(obj any) {
			if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
				c.forget(key)
			}
		},
	}); err != nil {
		return err
	}
	// A ConfigMap or Secret that appears, changes or goes may decide a
	// held pod of its namespace.
	nsChanged := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		m, err := metaOf(obj)
		if err != nil {
			return
		}
		pods, _ := c.pods.Pods(m.GetNamespace()).List(labels.Everything())
		for _, p := range pods {
			if held(p) {
				c.queue.Add(p.Namespace + "/" + p.Name)
			}
		}
	}
	for _, inf := range []cache.SharedIndexInformer{cmInf, secretInf} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    nsChanged,
			UpdateFunc: func(_, obj any) { nsChanged(obj) },
			DeleteFunc: nsChanged,
		}); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	informers := []cache.SharedIndexInformer{podInf, cmInf, secretInf}
	for _, inf := range informers {
		wg.Go(func() { inf.RunWithContext(ctx) })
	}
	// The informers stop with ctx; wait for them as the factory's
	// Shutdown did.
	defer wg.Wait()
	defer c.queue.ShutDown()
	synced := make([]cache.InformerSynced, len(informers))
	for i, inf := range informers {
		synced[i] = inf.HasSynced
	}
	cache.WaitForCacheSync(ctx.Done(), synced...)
	go func() {
		<-ctx.Done()
		c.queue.ShutDown()
	}()
	for c.next(ctx) {
	}
	return nil
}

type controller struct {
	core    rest.Interface
	dyn     dynamic.Interface
	o       Options
	pods    listersv1.PodLister
	cms     listersv1.ConfigMapLister
	secrets listersv1.SecretLister
	queue   workqueue.TypedRateLimitingInterface[string]

	mu sync.Mutex
	// reported is, per pod and container ("ns/pod/container"), the
	// message its last Failed event said, so each verdict is told once.
	reported map[string]string
	// logs is, per pod, the Logs spec last written.
	logs map[string][]any
}

func metaOf(obj any) (metav1.Object, error) {
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		return o, nil
	case *corev1.Secret:
		return o, nil
	}
	return nil, fmt.Errorf("unexpected %T", obj)
}

func (c *controller) next(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		if !apierrors.IsConflict(err) && ctx.Err() == nil {
			fmt.Fprintf(c.o.Log, "simkubelet: pod %s: %v\n", key, err)
		}
		c.queue.AddRateLimited(key)
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *controller) forget(podKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.reported {
		if strings.HasPrefix(k, podKey+"/") {
			delete(c.reported, k)
		}
	}
	delete(c.logs, podKey)
}

// held reports whether kwok's stages hold the pod back for this
// controller: it has references and has not started (no container status
// yet, or one waiting with CreateContainerConfigError). It must say what
// the stages' jq "configHeld" says.
func held(p *corev1.Pod) bool {
	if !slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return HasRefs(&c) }) {
		return false
	}
	if len(p.Status.ContainerStatuses) == 0 {
		return true
	}
	return slices.ContainsFunc(p.Status.ContainerStatuses, func(s corev1.ContainerStatus) bool {
		return s.State.Waiting != nil && s.State.Waiting.Reason == ReasonConfigError
	})
}

func (c *controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		c.forget(key)
		return nil
	}
	if err != nil {
		return err
	}
	if pod.DeletionTimestamp != nil || pod.Spec.NodeName == "" {
		return nil
	}
	// Logs come second: a cluster without kwok's Logs must still start
	// its pods.
	if err := c.syncConfig(ctx, pod); err != nil {
		return err
	}
	return c.syncLogs(ctx, pod)
}

// syncConfig judges a pod that the stages hold back (see held).
func (c *controller) syncConfig(ctx context.Context, pod *corev1.Pod) error {
	ns := pod.Namespace
	if !held(pod) {
		return nil
	}
	for _, ctr := range pod.Spec.Containers {
		if c.o.Known != nil && !c.o.Known(ctr.Image) {
			// kwok's pull stages own it: ErrImagePull comes first.
			return nil
		}
	}
	lookup := Lookup{
		ConfigMap: func(n string) *corev1.ConfigMap { cm, _ := c.cms.ConfigMaps(ns).Get(n); return cm },
		Secret:    func(n string) *corev1.Secret { s, _ := c.secrets.Secrets(ns).Get(n); return s },
	}
	msgs := make([]string, len(pod.Spec.Containers))
	for i := range pod.Spec.Containers {
		msgs[i] = ConfigError(ns, &pod.Spec.Containers[i], lookup)
	}
	want := c.status(pod, msgs)
	if !sameWaiting(pod.Status.ContainerStatuses, want.ContainerStatuses) {
		updated := pod.DeepCopy()
		updated.Status = want
		wctx, cancel := context.WithTimeout(ctx, c.o.APITimeout)
		err := c.core.Put().Namespace(ns).Resource("pods").Name(updated.Name).SubResource("status").
			Body(updated).Do(wctx).Error()
		cancel()
		if err != nil {
			return err
		}
	}
	return c.report(ctx, pod, msgs)
}

// status is the pod's status as the kubelet writes it while it cannot
// create a container: every container waits (the failing ones with
// CreateContainerConfigError and the message, the others being created),
// the sandbox exists, nothing is ready, the phase is Pending.
func (c *controller) status(pod *corev1.Pod, msgs []string) corev1.PodStatus {
	st := *pod.Status.DeepCopy()
	now := metav1.Now()
	started := false
	var statuses []corev1.ContainerStatus
	var unready []string
	for i, ctr := range pod.Spec.Containers {
		w := &corev1.ContainerStateWaiting{Reason: ReasonCreating}
		if msgs[i] != "" {
			w = &corev1.ContainerStateWaiting{Reason: ReasonConfigError, Message: msgs[i]}
		}
		statuses = append(statuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image, State: corev1.ContainerState{Waiting: w},
			Ready: false, Started: &started,
		})
		unready = append(unready, ctr.Name)
	}
	st.ContainerStatuses = statuses
	st.Phase = corev1.PodPending
	if st.StartTime == nil {
		st.StartTime = &now
	}
	notReady := fmt.Sprintf("containers with unready status: [%s]", strings.Join(unready, " "))
	setCondition(&st, corev1.PodCondition{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue}, now)
	setCondition(&st, corev1.PodCondition{Type: corev1.PodInitialized, Status: corev1.ConditionTrue}, now)
	setCondition(&st, corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: notReady}, now)
	setCondition(&st, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: notReady}, now)
	return st
}

// setCondition sets a condition, keeping its transition time when its
// status does not change, as the kubelet's status manager does.
func setCondition(st *corev1.PodStatus, want corev1.PodCondition, now metav1.Time) {
	for i, c := range st.Conditions {
		if c.Type == want.Type {
			want.LastTransitionTime = c.LastTransitionTime
			if c.Status != want.Status {
				want.LastTransitionTime = now
			}
			st.Conditions[i] = want
			return
		}
	}
	want.LastTransitionTime = now
	st.Conditions = append(st.Conditions, want)
}

func sameWaiting(have, want []corev1.ContainerStatus) bool {
	if len(have) != len(want) {
		return false
	}
	for i := range have {
		h, w := have[i].State.Waiting, want[i].State.Waiting
		if have[i].Name != want[i].Name || h == nil || w == nil || h.Reason != w.Reason || h.Message != w.Message {
			return false
		}
	}
	return true
}

// report sends the kubelet's events for each container whose verdict is
// new: it found the image (Pulled), then could not build the
// configuration (Failed, "Error: " and the message; kuberuntime_container.go
// startContainer).
func (c *controller) report(ctx context.Context, pod *corev1.Pod, msgs []string) error {
	for i, ctr := range pod.Spec.Containers {
		key := pod.Namespace + "/" + pod.Name + "/" + ctr.Name
		c.mu.Lock()
		last, seen := c.reported[key]
		c.mu.Unlock()
		if msgs[i] == "" || (seen && last == msgs[i]) {
			continue
		}
		if !seen {
			if err := c.event(ctx, pod, ctr.Name, corev1.EventTypeNormal, "Pulled",
				fmt.Sprintf("Container image %q already present on machine and can be accessed by the pod", ctr.Image)); err != nil {
				return err
			}
		}
		if err := c.event(ctx, pod, ctr.Name, corev1.EventTypeWarning, "Failed", "Error: "+msgs[i]); err != nil {
			return err
		}
		c.mu.Lock()
		c.reported[key] = msgs[i]
		c.mu.Unlock()
		fmt.Fprintf(c.o.Log, "simkubelet: pod %s/%s container %s: %s\n", pod.Namespace, pod.Name, ctr.Name, msgs[i])
	}
	return nil
}

// event writes an Event as kwok's stages write the kubelet's: named after
// the pod with a unique suffix, from the kubelet of the pod's node.
func (c *controller) event(ctx context.Context, pod *corev1.Pod, container, typ, reason, msg string) error {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", pod.Name, time.Now().UnixNano()), Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{
			APIVersion: "v1", Kind: "Pod", Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID,
			FieldPath: "spec.containers{" + container + "}",
		},
		Source:              corev1.EventSource{Component: "kubelet", Host: pod.Spec.NodeName},
		ReportingController: "kubelet",
		ReportingInstance:   pod.Spec.NodeName,
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
		Type:                typ,
		Reason:              reason,
		Message:             msg,
	}
	wctx, cancel := context.WithTimeout(ctx, c.o.APITimeout)
	defer cancel()
	return c.core.Post().Namespace(pod.Namespace).Resource("events").Body(ev).Do(wctx).Error()
}

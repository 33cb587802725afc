package simkubelet

import (
	"context"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// logsResource is kwok's Logs: per pod (by name and namespace), which file
// each container's logs and previous logs come from.
var logsResource = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// logsSpec lists, for each container that has run, the file kwok serves
// for 'kubectl logs' and, once it has a terminated run before this one,
// for --previous. As on the kubelet (kubelet_pods.go
// validateContainerLogStatus), a container that exited and waits to be
// restarted shows the run that ended; a run that ended with Error printed
// the image's exit line, any other run its start lines. A container that
// never ran is left out, so kwok has no logs for it.
func (c *controller) logsSpec(pod *corev1.Pod) []any {
	var out []any
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, cs := range statuses {
		run, exit, ok := c.o.LogFiles(cs.Image)
		if !ok {
			continue
		}
		pick := func(t *corev1.ContainerStateTerminated) string {
			if t != nil && t.Reason == "Error" {
				return exit
			}
			return run
		}
		last := cs.LastTerminationState.Terminated
		var current string
		switch {
		case cs.State.Running != nil:
			current = run
		case cs.State.Terminated != nil:
			current = pick(cs.State.Terminated)
		case last != nil:
			current = pick(last)
		default:
			continue
		}
		entry := map[string]any{"containers": []any{cs.Name}, "logsFile": current}
		if last != nil {
			entry["previousLogsFile"] = pick(last)
		}
		out = append(out, entry)
	}
	return out
}

// syncLogs makes the pod's Logs object say what logsSpec says. It belongs
// to the pod, so the garbage collector removes it with the pod.
func (c *controller) syncLogs(ctx context.Context, pod *corev1.Pod) error {
	if c.dyn == nil || c.o.LogFiles == nil {
		return nil
	}
	spec := c.logsSpec(pod)
	if len(spec) == 0 {
		return nil
	}
	key := pod.Namespace + "/" + pod.Name
	c.mu.Lock()
	same := reflect.DeepEqual(c.logs[key], spec)
	c.mu.Unlock()
	if same {
		return nil
	}
	client := c.dyn.Resource(logsResource).Namespace(pod.Namespace)
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata": map[string]any{
			"name": pod.Name,
			"ownerReferences": []any{map[string]any{
				"apiVersion": "v1", "kind": "Pod", "name": pod.Name, "uid": string(pod.UID),
			}},
		},
		"spec": map[string]any{"logs": spec},
	}}
	wctx, cancel := context.WithTimeout(ctx, c.o.APITimeout)
	defer cancel()
	cur, err := client.Get(wctx, pod.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = client.Create(wctx, obj, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) {
			// A cluster made before kwok's Logs were enabled: it has no
			// logs to show, as before.
			fmt.Fprintf(c.o.Log, "simkubelet: no kwok Logs in this cluster (%v); kubectl logs has nothing to show\n", err)
			err = nil
		}
	case err == nil:
		// A pod of the same name made again: the old pod's Logs goes
		// with it; take it over.
		obj.SetResourceVersion(cur.GetResourceVersion())
		_, err = client.Update(wctx, obj, metav1.UpdateOptions{})
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.logs[key] = spec
	c.mu.Unlock()
	return nil
}

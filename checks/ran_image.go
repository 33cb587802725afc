package checks

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"context"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("ranImage", func() CheckKind { return &RanImage{} })
}

// RanImage holds when a deployment runs an image now, or ran it and was
// rolled back from it since: the task that asked for the image stays done
// when a later task rolls back, and only then.
type RanImage struct {
	Deployment string `yaml:"deployment"`
	// Image as the learner writes it ("nginx:1.27"); Docker Hub's longer
	// names for it count too.
	Image string `yaml:"image"`
}

func (c *RanImage) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	v.Deployment(c.Deployment, node, what)
	if c.Image == "" {
		v.Add(node, "%s: ranImage needs the image", what)
	}
}

func (c *RanImage) reads(ns string) []clustercache.Key {
	return append(inLabNamespace(ns, kube.DeploymentsGVR, kube.ReplicaSetsGVR), deploymentEvents(ns))
}

// Whether the controller renumbered a ReplicaSet is told by who wrote its
// revision-history annotation.
func (c *RanImage) readsManagedFields(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.ReplicaSetsGVR)
}

func (c *RanImage) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return ranImage(ctx, snap, ns, *c)
}

// imageNames are the names under which image is pulled from Docker Hub.
func imageNames(image string) []string {
	names := []string{image}
	if !strings.Contains(image, "/") {
		names = append(names, "docker.io/"+image, "docker.io/library/"+image)
	}
	return names
}

func templateRuns(t *corev1.PodTemplateSpec, names []string) bool {
	for _, c := range t.Spec.Containers {
		for _, n := range names {
			if c.Image == n {
				return true
			}
		}
	}
	return false
}

// ranImage judges from what the API server and the deployment controller
// write: the ReplicaSet the image ran in, its revision, and whether the
// current ReplicaSet came back after it. The current template is an
// earlier one when its ReplicaSet is older than the image's (the API
// server stamps creation) or the controller renumbered it, writing its
// revision-history; a revision number or an annotation alone is a claim.
func ranImage(ctx context.Context, snap clustercache.Snapshot, ns string, spec RanImage) Outcome {
	d, out := getDeployment(ctx, snap, ns, spec.Deployment)
	if out != nil {
		return *out
	}
	names := imageNames(spec.Image)
	if templateRuns(&d.Spec.Template, names) {
		return passed()
	}
	update := fmt.Sprintf("update it with kubectl set image deployment/%s %s", d.Name, containerImageArg(d, spec.Image))
	owned, cur, unreadable := deploymentReplicaSets(ctx, snap, ns, d)
	if unreadable != nil {
		return *unreadable
	}
	var ran *appsv1.ReplicaSet
	for i := range owned {
		if templateRuns(&owned[i].Spec.Template, names) {
			ran = &owned[i]
			break // owned is newest revision first
		}
	}
	switch {
	case ran == nil:
		return failed(fmt.Sprintf("deployment %s does not run %s; %s", d.Name, spec.Image, update))
	case cur == nil:
		return settling(fmt.Sprintf("deployment %s's current template has no ReplicaSet yet; wait a moment for the deployment controller", d.Name))
	}
	renumbered := false
	for _, w := range fieldWriters(cur, "f:metadata", "f:annotations", "f:"+kube.RevisionHistoryAnnotation) {
		if w.manager == controllerManager && w.operation == metav1.ManagedFieldsOperationUpdate {
			renumbered = true
		}
	}
	older := cur.CreationTimestamp.Unix() < ran.CreationTimestamp.Unix()
	if kube.Revision(cur) > kube.Revision(ran) && (older || renumbered) {
		// Rolled back from the image, as a later task asks: but a
		// rollback is the same record as going back by hand before the
		// update finished. The update finished when the deployment
		// controller scaled the template web came back to down to 0
		// while the image's ReplicaSet was there.
		events, unreadable := listTyped[corev1.Event](ctx, snap, kube.EventsGVR, ns)
		if unreadable != nil {
			return *unreadable
		}
		for _, sc := range scalingsOf(d, events) {
			if sc.down && sc.to == 0 && sc.replicaSet == cur.Name && !sc.at.Before(ran.CreationTimestamp.Time.Truncate(time.Second)) {
				return passed()
			}
		}
		return failed(fmt.Sprintf("deployment %s went back to %s before the update to %s finished (the deployment controller never scaled %s's old pods down to 0; its events are kept for an hour): %s, and wait with kubectl rollout status deployment/%s",
			d.Name, templateImages(&d.Spec.Template), spec.Image, d.Name, update, d.Name))
	}
	return failed(fmt.Sprintf("deployment %s does not run %s: it runs %s, a newer template than %s's; %s",
		d.Name, spec.Image, templateImages(&d.Spec.Template), spec.Image, update))
}

// containerImageArg is kubectl set image's CONTAINER=IMAGE for the
// deployment's only container, or a placeholder for several.
func containerImageArg(d *appsv1.Deployment, image string) string {
	if cs := d.Spec.Template.Spec.Containers; len(cs) == 1 {
		return cs[0].Name + "=" + image
	}
	return "CONTAINER=" + image
}

func templateImages(t *corev1.PodTemplateSpec) string {
	var imgs []string
	for _, c := range t.Spec.Containers {
		imgs = append(imgs, c.Image)
	}
	return strings.Join(imgs, ", ")
}

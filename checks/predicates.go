package checks

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Annotations and labels the deployment controller and kubectl maintain.
const (
	revisionAnnotation        = "deployment.kubernetes.io/revision"
	revisionHistoryAnnotation = "deployment.kubernetes.io/revision-history"
	lastAppliedAnnotation     = "kubectl.kubernetes.io/last-applied-configuration"
	serviceNameLabel          = "kubernetes.io/service-name"
	controlPlaneRoleLabel     = "node-role.kubernetes.io/control-plane"
	legacyMasterRoleLabel     = "node-role.kubernetes.io/master"
	clientSideApplyManager    = "kubectl-client-side-apply"
)

// replacementDelay is how much later than the last change to a workload a
// pod must be created to count as a replacement: the controllers create
// pods for a scale or a new template within a moment, and managedFields
// times have one-second resolution.
const replacementDelay = 2 * time.Second

// listTyped lists a resource through the snapshot and converts each object
// into its typed form.
func listTyped[T any](ctx context.Context, snap Snapshot, gvr schema.GroupVersionResource, ns string) ([]T, *Outcome) {
	items, err := snap.List(ctx, gvr, ns)
	if err != nil {
		out := outcomeFromError(err, gvr.Resource+inNamespace(ns))
		return nil, &out
	}
	out := make([]T, 0, len(items))
	for i := range items {
		var t T
		if err := fromUnstructured(items[i].Object, &t); err != nil {
			return nil, &Outcome{Status: Error, Messages: []string{fmt.Sprintf("%s %s cannot be read: %v", gvr.Resource, items[i].GetName(), err)}}
		}
		out = append(out, t)
	}
	return out, nil
}

// fromUnstructured converts without letting an object of a surprising
// shape take the whole evaluation down: the converter walks arbitrary
// data with reflection.
func fromUnstructured(obj map[string]any, into any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("unexpected object shape: %v", r)
		}
	}()
	return runtime.DefaultUnstructuredConverter.FromUnstructured(obj, into)
}

func findNamed[T any, P interface {
	*T
	GetName() string
}](items []T, name string) *T {
	for i := range items {
		if P(&items[i]).GetName() == name {
			return &items[i]
		}
	}
	return nil
}

func inNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return " in namespace " + ns
}

func failed(msgs ...string) Outcome { return Outcome{Status: Fail, Messages: msgs} }

func passed() Outcome { return Outcome{Status: Pass} }

func missing(format string, args ...any) Outcome {
	return Outcome{Status: Missing, Messages: []string{fmt.Sprintf(format, args...)}}
}

// getDeployment returns the named deployment, or the outcome to report
// when it cannot be had.
func getDeployment(ctx context.Context, snap Snapshot, ns, name string) (*appsv1.Deployment, *Outcome) {
	ds, unreadable := listTyped[appsv1.Deployment](ctx, snap, deploymentsGVR, ns)
	if unreadable != nil {
		return nil, unreadable
	}
	d := findNamed(ds, name)
	if d == nil {
		out := missing("deployment %s not found%s", name, inNamespace(ns))
		return nil, &out
	}
	return d, nil
}

// rolloutComplete makes the decision 'kubectl rollout status' makes
// (k8s.io/kubectl/pkg/polymorphichelpers DeploymentStatusViewer), so a lab
// agrees with what the learner sees in the terminal.
func rolloutComplete(ctx context.Context, snap Snapshot, ns string, ref WorkloadRef) Outcome {
	d, out := getDeployment(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	waiting, timedOut := rolloutWaiting(d)
	switch {
	case timedOut != "":
		return failed(timedOut)
	case waiting == "":
		return passed()
	case d.Spec.Paused:
		// A paused deployment never finishes by itself; waiting longer
		// would not help the learner.
		return failed(fmt.Sprintf("deployment %s is paused with its rollout unfinished (%s): resume it with kubectl rollout resume deployment/%s",
			d.Name, waiting, d.Name))
	}
	return failed(fmt.Sprintf("deployment %s: %s; the rollout is still in progress", d.Name, waiting))
}

// rolloutWaiting returns why the rollout is not complete yet, or why it
// will not complete.
func rolloutWaiting(d *appsv1.Deployment) (waiting, timedOut string) {
	st := d.Status
	if d.Generation > st.ObservedGeneration {
		return fmt.Sprintf("the deployment controller has not yet seen the latest change (generation %d, observed %d)", d.Generation, st.ObservedGeneration), ""
	}
	for _, c := range st.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			msg := fmt.Sprintf("deployment %s exceeded its progress deadline: its new pods did not become available in time", d.Name)
			if c.Message != "" {
				msg += " (" + strings.TrimSuffix(c.Message, ".") + ")"
			}
			return "", msg + fmt.Sprintf("; look at kubectl describe deployment/%s and the events of its pods", d.Name)
		}
	}
	switch {
	case d.Spec.Replicas != nil && st.UpdatedReplicas < *d.Spec.Replicas:
		return fmt.Sprintf("%d out of %d new replicas have been updated", st.UpdatedReplicas, *d.Spec.Replicas), ""
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas are pending termination", st.Replicas-st.UpdatedReplicas), ""
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas are available", st.AvailableReplicas, st.UpdatedReplicas), ""
	}
	return "", ""
}

// revisionOf reads the revision the deployment controller numbers a
// ReplicaSet with; unreadable means unnumbered.
func revisionOf(meta metav1.Object) int64 {
	n, err := strconv.ParseInt(meta.GetAnnotations()[revisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// ownedBy reports whether d controls obj. Matching on UID keeps a
// ReplicaSet left over from a deleted deployment of the same name out;
// objects without a UID (hand-written fixtures) fall back to the name.
func ownedBy(obj metav1.Object, kind, name string, uid types.UID) bool {
	for _, o := range obj.GetOwnerReferences() {
		if o.Kind != kind {
			continue
		}
		if uid != "" && o.UID != "" {
			if o.UID == uid {
				return true
			}
			continue
		}
		if o.Name == name {
			return true
		}
	}
	return false
}

// equalIgnoreHash compares pod templates as the deployment controller does
// to find a deployment's ReplicaSet: the pod-template-hash label is the
// ReplicaSet's, not part of the template the learner wrote.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	a, b = a.DeepCopy(), b.DeepCopy()
	delete(a.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	delete(b.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
	return equality.Semantic.DeepEqual(a, b)
}

// replicaSetsOf returns the ReplicaSets d owns, newest revision first, and
// among them the one running d's current template (nil when the
// controller has not made it yet).
func replicaSetsOf(d *appsv1.Deployment, rss []appsv1.ReplicaSet) (owned []appsv1.ReplicaSet, current *appsv1.ReplicaSet) {
	for i := range rss {
		if ownedBy(&rss[i], "Deployment", d.Name, d.UID) {
			owned = append(owned, rss[i])
		}
	}
	sort.SliceStable(owned, func(i, j int) bool {
		ri, rj := revisionOf(&owned[i]), revisionOf(&owned[j])
		if ri != rj {
			return ri > rj
		}
		return owned[i].CreationTimestamp.Before(&owned[j].CreationTimestamp)
	})
	for i := range owned {
		if equalIgnoreHash(&owned[i].Spec.Template, &d.Spec.Template) {
			return owned, &owned[i]
		}
	}
	return owned, nil
}

// rolledBack holds when the deployment runs a template it ran before under
// an earlier revision. The deployment controller, on finding an existing
// ReplicaSet for the template (which 'kubectl rollout undo' or applying an
// old manifest brings about), gives it the next revision number and keeps
// its old numbers in the revision-history annotation.
func rolledBack(ctx context.Context, snap Snapshot, ns string, ref WorkloadRef) Outcome {
	d, out := getDeployment(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	rss, unreadable := listTyped[appsv1.ReplicaSet](ctx, snap, replicaSetsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	owned, cur := replicaSetsOf(d, rss)
	switch {
	case len(owned) == 0:
		return failed(fmt.Sprintf("deployment %s has no ReplicaSets yet; wait a moment for the deployment controller", d.Name))
	case cur == nil && d.Spec.Paused:
		return failed(fmt.Sprintf("deployment %s is paused, so its current template has no ReplicaSet yet: resume it with kubectl rollout resume deployment/%s", d.Name, d.Name))
	case cur == nil:
		return failed(fmt.Sprintf("deployment %s's current template has no ReplicaSet yet; wait a moment for the deployment controller", d.Name))
	}
	rev, top := revisionOf(cur), revisionOf(&owned[0])
	if rev < top {
		// The template is an earlier one, but the controller has not
		// renumbered its ReplicaSet yet: a rollback in progress.
		return failed(fmt.Sprintf("deployment %s's template is that of revision %d, but the deployment controller has not made it the current revision (%d is) yet; wait a moment",
			d.Name, rev, top))
	}
	if strings.TrimSpace(cur.Annotations[revisionHistoryAnnotation]) != "" {
		return passed()
	}
	for i := range owned {
		rs := &owned[i]
		if rs.Name != cur.Name && revisionOf(rs) < rev && equalIgnoreHash(&rs.Spec.Template, &cur.Spec.Template) {
			return passed()
		}
	}
	if len(owned) == 1 || rev <= 1 {
		return failed(fmt.Sprintf("deployment %s is at revision %d, its first: change it (for example with kubectl set image) before rolling back", d.Name, rev))
	}
	return failed(fmt.Sprintf("deployment %s is at revision %d, which is a new template, not an earlier one: roll back with kubectl rollout undo deployment/%s",
		d.Name, rev, d.Name))
}

func podReady(p *corev1.Pod) bool {
	if !podActive(p) {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podActive is a pod that is neither finished nor on its way out: the ones
// a service can still route to.
func podActive(p *corev1.Pod) bool {
	return p.DeletionTimestamp == nil && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed
}

// podLabels shows a pod's labels without the hash the deployment adds, so
// the learner can compare them with what they wrote.
func podLabels(l map[string]string) string {
	m := labels.Set{}
	for k, v := range l {
		if k != appsv1.DefaultDeploymentUniqueLabelKey {
			m[k] = v
		}
	}
	if len(m) == 0 {
		return "no labels"
	}
	return m.String()
}

func nameList(names []string) string {
	slices.Sort(names)
	const most = 3
	if len(names) > most {
		return strings.Join(names[:most], ", ") + fmt.Sprintf(" and %d more", len(names)-most)
	}
	return strings.Join(names, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// serviceEndpoints holds when the service's EndpointSlices route to
// exactly the deployment's ready pods. Each way it can go wrong has its
// own message, since each has a different fix.
func serviceEndpoints(ctx context.Context, snap Snapshot, ns string, spec ServiceEndpoints) Outcome {
	svcs, unreadable := listTyped[corev1.Service](ctx, snap, servicesGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	svc := findNamed(svcs, spec.Service)
	if svc == nil {
		return missing("service %s not found%s", spec.Service, inNamespace(ns))
	}
	d, out := getDeployment(ctx, snap, ns, spec.Deployment)
	if out != nil {
		return *out
	}
	pods, unreadable := listTyped[corev1.Pod](ctx, snap, podsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	eps, unreadable := listTyped[discoveryv1.EndpointSlice](ctx, snap, endpointSlicesGVR, ns)
	if unreadable != nil {
		return *unreadable
	}

	dSel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return Outcome{Status: Error, Messages: []string{fmt.Sprintf("deployment %s has an invalid selector: %v", d.Name, err)}}
	}
	want := podLabels(d.Spec.Template.Labels)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return failed(fmt.Sprintf("service %s is of type ExternalName, which has no endpoints: make it a ClusterIP service selecting %s", svc.Name, want))
	}
	if len(svc.Spec.Selector) == 0 {
		return failed(fmt.Sprintf("service %s has no selector, so Kubernetes finds no pods for it: set spec.selector to the deployment's pod labels (%s)", svc.Name, want))
	}
	sSel := labels.SelectorFromSet(svc.Spec.Selector)
	have := labels.Set(svc.Spec.Selector).String()

	byName := map[string]*corev1.Pod{}
	byIP := map[string]*corev1.Pod{}
	var ours, foreign []string
	ready := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		byName[p.Name] = p
		for _, ip := range p.Status.PodIPs {
			byIP[ip.IP] = p
		}
		if p.Status.PodIP != "" {
			byIP[p.Status.PodIP] = p
		}
		mine := dSel.Matches(labels.Set(p.Labels))
		if mine && podReady(p) {
			ready[p.Name] = true
		}
		if podActive(p) && sSel.Matches(labels.Set(p.Labels)) {
			if mine {
				ours = append(ours, p.Name)
			} else {
				foreign = append(foreign, p.Name)
			}
		}
	}

	switch {
	case len(ours) == 0 && len(foreign) == 0 && sSel.Matches(labels.Set(d.Spec.Template.Labels)):
		return failed(fmt.Sprintf("service %s selects %s, which fits deployment %s's pods, but the deployment has no running pods yet", svc.Name, have, d.Name))
	case len(ours) == 0 && len(foreign) == 0:
		return failed(fmt.Sprintf("service %s selects %s, which matches no pods; the deployment's pods are labelled %s", svc.Name, have, want))
	case len(ours) == 0:
		return failed(fmt.Sprintf("service %s selects %s, which matches %s %s but none of deployment %s's pods; the deployment's pods are labelled %s",
			svc.Name, have, plural(len(foreign), "pod", "pods"), nameList(foreign), d.Name, want))
	}

	var msgs []string
	reported := map[string]bool{}
	if len(foreign) > 0 {
		msgs = append(msgs, fmt.Sprintf("service %s also selects %s %s, which %s not part of deployment %s: narrow its selector (%s) so it matches only the deployment's pods (labelled %s)",
			svc.Name, plural(len(foreign), "pod", "pods"), nameList(foreign), plural(len(foreign), "is", "are"), d.Name, have, want))
		for _, n := range foreign {
			reported[n] = true
		}
	}
	if len(ready) == 0 {
		msgs = append(msgs, fmt.Sprintf("deployment %s has no Ready pods, so service %s has nowhere to send traffic; look at kubectl get pods -l %s", d.Name, svc.Name, want))
	}

	// Endpoints that are not ready get no traffic, so only ready ones
	// count; the EndpointSlice controller lists unready pods too.
	listed := map[string]bool{}
	var gone, strangers, notReady, addrs []string
	for i := range eps {
		es := &eps[i]
		if es.Labels[serviceNameLabel] != svc.Name {
			continue
		}
		for _, ep := range es.Endpoints {
			if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
				continue
			}
			var p *corev1.Pod
			name := ""
			if ep.TargetRef != nil && (ep.TargetRef.Kind == "Pod" || ep.TargetRef.Kind == "") {
				name = ep.TargetRef.Name
				p = byName[name]
			} else {
				for _, a := range ep.Addresses {
					if p = byIP[a]; p != nil {
						name = p.Name
						break
					}
				}
			}
			switch {
			case name == "":
				addrs = append(addrs, strings.Join(ep.Addresses, ","))
			case listed[name]:
			case p == nil:
				listed[name] = true
				gone = append(gone, name)
			default:
				listed[name] = true
				switch {
				case reported[name]:
				case !dSel.Matches(labels.Set(p.Labels)):
					strangers = append(strangers, name)
				case !podReady(p):
					notReady = append(notReady, name)
				}
			}
		}
	}
	if len(strangers) > 0 {
		msgs = append(msgs, fmt.Sprintf("service %s sends traffic to %s %s, which %s not part of deployment %s",
			svc.Name, plural(len(strangers), "pod", "pods"), nameList(strangers), plural(len(strangers), "is", "are"), d.Name))
	}
	if len(addrs) > 0 {
		msgs = append(msgs, fmt.Sprintf("service %s sends traffic to %s %s, which %s no pod of deployment %s",
			svc.Name, plural(len(addrs), "address", "addresses"), nameList(addrs), plural(len(addrs), "is", "are"), d.Name))
	}
	if len(notReady) > 0 {
		msg := fmt.Sprintf("service %s sends traffic to %s %s, which %s not Ready", svc.Name,
			plural(len(notReady), "pod", "pods"), nameList(notReady), plural(len(notReady), "is", "are"))
		if svc.Spec.PublishNotReadyAddresses {
			msg += ", because the service sets publishNotReadyAddresses: true; remove it"
		}
		msgs = append(msgs, msg)
	}
	if len(gone) > 0 {
		msgs = append(msgs, fmt.Sprintf("service %s still lists %s %s, which no longer %s; wait a moment for its endpoints to catch up",
			svc.Name, plural(len(gone), "pod", "pods"), nameList(gone), plural(len(gone), "exists", "exist")))
	}

	var unselected, pending []string
	for name := range ready {
		switch {
		case listed[name]:
		case !sSel.Matches(labels.Set(byName[name].Labels)):
			unselected = append(unselected, name)
		default:
			pending = append(pending, name)
		}
	}
	if len(unselected) > 0 {
		msgs = append(msgs, fmt.Sprintf("service %s does not send traffic to ready %s %s of deployment %s: the selector %s does not match %s (labelled %s)",
			svc.Name, plural(len(unselected), "pod", "pods"), nameList(unselected), d.Name, have, plural(len(unselected), "it", "them"), podLabels(byName[unselected[0]].Labels)))
	}
	if len(pending) > 0 {
		msgs = append(msgs, fmt.Sprintf("ready %s %s of deployment %s %s not among service %s's endpoints yet; wait a moment for them to catch up",
			plural(len(pending), "pod", "pods"), nameList(pending), d.Name, plural(len(pending), "is", "are"), svc.Name))
	}
	if len(msgs) > 0 {
		return failed(msgs...)
	}
	return passed()
}

// write is one managedFields entry, reduced to what decides who changed
// an object last.
type write struct {
	manager     string
	operation   metav1.ManagedFieldsOperationType
	subresource string
	time        time.Time
	fields      *metav1.FieldsV1
}

func writesOf(obj metav1.Object) []write {
	var out []write
	for _, e := range obj.GetManagedFields() {
		w := write{manager: e.Manager, operation: e.Operation, subresource: e.Subresource, fields: e.FieldsV1}
		if e.Time != nil {
			w.time = e.Time.Time
		}
		out = append(out, w)
	}
	return out
}

// declarative is a write by kubectl apply, client- or server-side.
func (w write) declarative() bool {
	return w.operation == metav1.ManagedFieldsOperationApply || w.manager == clientSideApplyManager
}

// imperative is a write by a person that bypassed the applied file.
// Controllers keep status and bookkeeping up to date and say nothing about
// how the learner worked; 'kubectl scale' writes the scale subresource,
// which changes the spec, so it counts.
func (w write) imperative() bool {
	if w.declarative() || w.subresource == "status" {
		return false
	}
	switch w.manager {
	case "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl-last-applied":
		return false
	}
	return true
}

// command names the tool behind a write the way the learner typed it.
func (w write) command() string {
	switch {
	case w.operation == metav1.ManagedFieldsOperationApply && w.manager == "kubectl":
		return "kubectl apply --server-side"
	case w.operation == metav1.ManagedFieldsOperationApply:
		return "server-side apply by " + w.manager
	case w.manager == clientSideApplyManager:
		return "kubectl apply"
	case w.manager == "kubectl" && w.subresource == "scale":
		return "kubectl scale"
	case w.manager == "kubectl":
		// kubectl commands without a field manager of their own, such as
		// 'rollout undo', are recorded under the user agent.
		return "a kubectl command"
	case strings.HasPrefix(w.manager, "kubectl-"):
		return "kubectl " + strings.TrimPrefix(w.manager, "kubectl-")
	}
	return w.manager
}

func quoted(cmd string) string {
	if strings.HasPrefix(cmd, "kubectl ") {
		return "'" + cmd + "'"
	}
	return cmd
}

// appliedBy holds when the object was last written by kubectl apply
// (client-side) or server-side apply, judged from metadata.managedFields.
func appliedBy(ctx context.Context, snap Snapshot, ns string, res Resource) Outcome {
	k, err := lookupKind(res.APIVersion, res.Kind)
	if err != nil {
		return Outcome{Status: Error, Messages: []string{err.Error()}}
	}
	if res.Name == "" {
		return Outcome{Status: Error, Messages: []string{"appliedBy needs the name of an object"}}
	}
	listNS := ""
	if k.namespaced {
		listNS = ns
		if res.Namespace != "" {
			listNS = res.Namespace
		}
	}
	kind := strings.ToLower(res.Kind)
	items, err := snap.List(ctx, k.gvr, listNS)
	if err != nil {
		return outcomeFromError(err, kind+"s"+inNamespace(listNS))
	}
	var obj map[string]any
	var meta metav1.ObjectMeta
	for i := range items {
		if items[i].GetName() == res.Name {
			obj = items[i].Object
			m, _ := obj["metadata"].(map[string]any)
			if err := fromUnstructured(m, &meta); err != nil {
				return Outcome{Status: Error, Messages: []string{fmt.Sprintf("reading the metadata of %s %s: %v", kind, res.Name, err)}}
			}
			break
		}
	}
	if obj == nil {
		return missing("%s %s not found%s", kind, res.Name, inNamespace(listNS))
	}
	what := kind + " " + res.Name

	writes := writesOf(&meta)
	if len(writes) == 0 {
		return failed(fmt.Sprintf("%s has no record of how it was written (metadata.managedFields is empty): apply it with kubectl apply -f", what))
	}
	var applied *write
	for i := range writes {
		if writes[i].declarative() && (applied == nil || !writes[i].time.Before(applied.time)) {
			applied = &writes[i]
		}
	}
	var last *write
	for i := range writes {
		if writes[i].imperative() && (last == nil || !writes[i].time.Before(last.time)) {
			last = &writes[i]
		}
	}
	if applied == nil {
		by := "an imperative command"
		if last != nil {
			by = quoted(last.command())
		}
		return failed(fmt.Sprintf("%s was written only imperatively (by %s), never with kubectl apply: put it in a file and run kubectl apply -f FILE", what, by))
	}

	// Times have one-second resolution, so a change in the same second as
	// the apply is ordered by content: if the imperative writer owns a
	// field whose live value is no longer what was last applied, it wrote
	// after the apply.
	lastApplied := map[string]any{}
	if s := meta.Annotations[lastAppliedAnnotation]; s != "" && applied.manager == clientSideApplyManager {
		_ = json.Unmarshal([]byte(s), &lastApplied)
	}
	var culprit *write
	var changed []string
	for i := range writes {
		w := &writes[i]
		if !w.imperative() {
			continue
		}
		var paths []string
		switch {
		case w.time.After(applied.time):
			paths = describePaths(leafPaths(w.fields))
		case w.time.Equal(applied.time):
			paths = divergedPaths(w.fields, lastApplied, obj)
			if len(paths) == 0 {
				continue
			}
		default:
			continue
		}
		if culprit == nil || w.time.After(culprit.time) {
			culprit, changed = w, paths
		}
	}
	if culprit == nil {
		return passed()
	}
	again := "kubectl apply -f"
	if applied.operation == metav1.ManagedFieldsOperationApply {
		again = "kubectl apply --server-side -f"
	}
	fix := fmt.Sprintf("make the same change in your file and run %s again", again)
	switch {
	case culprit.subresource == "scale":
		fix = fmt.Sprintf("change replicas in your file and run %s again", again)
	case len(changed) > 0:
		fix = fmt.Sprintf("make the same change (%s) in your file and run %s again", nameList(changed), again)
	}
	return failed(fmt.Sprintf("%s was last changed by %s (imperative), after %s: %s", what, quoted(culprit.command()), applied.command(), fix))
}

// leafPaths lists the fields a managedFields entry owns, each as its
// path of raw keys ("f:spec", "f:replicas").
func leafPaths(f *metav1.FieldsV1) [][]string {
	if f == nil {
		return nil
	}
	var tree map[string]any
	if err := json.Unmarshal(f.GetRawBytes(), &tree); err != nil {
		return nil
	}
	var out [][]string
	var walk func(node map[string]any, path []string)
	walk = func(node map[string]any, path []string) {
		keys := make([]string, 0, len(node))
		for k := range node {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "." {
				continue
			}
			p := append(slices.Clip(path), k)
			child, _ := node[k].(map[string]any)
			if len(child) == 0 || (len(child) == 1 && child["."] != nil) {
				out = append(out, p)
				continue
			}
			walk(child, p)
		}
	}
	walk(tree, nil)
	return out
}

// describePaths renders owned fields as a learner reads them in YAML,
// leaving out bookkeeping metadata nobody writes by hand.
func describePaths(paths [][]string) []string {
	var out []string
	for _, p := range paths {
		if len(p) > 0 && p[0] == "f:metadata" && len(p) > 1 && p[1] != "f:labels" && p[1] != "f:annotations" {
			continue
		}
		if len(p) > 2 && p[0] == "f:metadata" && p[2] == "f:"+revisionAnnotation {
			continue
		}
		out = append(out, describePath(p))
	}
	return out
}

func describePath(p []string) string {
	var b strings.Builder
	for _, seg := range p {
		switch {
		case strings.HasPrefix(seg, "f:"):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(strings.TrimPrefix(seg, "f:"))
		case strings.HasPrefix(seg, "k:"):
			var key map[string]any
			if json.Unmarshal([]byte(strings.TrimPrefix(seg, "k:")), &key) == nil {
				parts := make([]string, 0, len(key))
				for k, v := range key {
					parts = append(parts, fmt.Sprintf("%s=%v", k, v))
				}
				sort.Strings(parts)
				b.WriteString("[" + strings.Join(parts, ",") + "]")
			}
		case strings.HasPrefix(seg, "i:"):
			b.WriteString("[" + strings.TrimPrefix(seg, "i:") + "]")
		case strings.HasPrefix(seg, "v:"):
			b.WriteString("[" + strings.TrimPrefix(seg, "v:") + "]")
		}
	}
	return b.String()
}

// divergedPaths returns the fields f owns whose live value differs from
// the last-applied configuration, which only a write after the apply can
// have caused.
func divergedPaths(f *metav1.FieldsV1, lastApplied, live map[string]any) []string {
	if len(lastApplied) == 0 {
		return nil
	}
	var out []string
	for _, p := range leafPaths(f) {
		want, ok := lookupPath(lastApplied, p)
		if !ok || !scalarish(want) {
			// Nested values come back defaulted, so only plain values
			// compare fairly.
			continue
		}
		got, ok := lookupPath(live, p)
		if !ok || !sameJSON(want, got) {
			out = append(out, describePath(p))
		}
	}
	return out
}

func lookupPath(obj any, path []string) (any, bool) {
	cur := obj
	for _, seg := range path {
		switch {
		case strings.HasPrefix(seg, "f:"):
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[strings.TrimPrefix(seg, "f:")]; !ok {
				return nil, false
			}
		case strings.HasPrefix(seg, "k:"):
			list, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			var key map[string]any
			if json.Unmarshal([]byte(strings.TrimPrefix(seg, "k:")), &key) != nil {
				return nil, false
			}
			found := false
			for _, el := range list {
				m, ok := el.(map[string]any)
				if !ok {
					continue
				}
				match := true
				for k, v := range key {
					if !sameJSON(m[k], v) {
						match = false
						break
					}
				}
				if match {
					cur, found = m, true
					break
				}
			}
			if !found {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return cur, true
}

func scalarish(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		return false
	case []any:
		for _, el := range v {
			switch el.(type) {
			case map[string]any, []any:
				return false
			}
		}
	}
	return true
}

// sameJSON compares values as JSON so that 3 parsed from an annotation
// (float64) equals 3 in an object (int64).
func sameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// lastSpecWrite is when obj was last changed other than in its status:
// its creation or any later write to its spec or metadata.
func lastSpecWrite(obj metav1.Object) time.Time {
	last := obj.GetCreationTimestamp().Time
	for _, w := range writesOf(obj) {
		if w.subresource != "status" && w.time.After(last) {
			last = w.time
		}
	}
	return last
}

// coreEventsGVR is where the ReplicaSet controller records each pod it
// creates and deletes.
var coreEventsGVR = knownKinds["v1/Event"].gvr

// podReplaced holds when the deployment's current ReplicaSet made a pod to
// replace one that went away. Two kinds of evidence count. A pod created
// well after the last change to the deployment and to the ReplicaSet:
// scaling and new templates make pods at once, so a later pod replaces one
// that went away. Or, since a script deletes a pod within a second of
// scaling, faster than timestamps can tell apart, the ReplicaSet's events:
// a pod it created that is gone (or going) without its having deleted it.
func podReplaced(ctx context.Context, snap Snapshot, ns string, ref WorkloadRef) Outcome {
	d, out := getDeployment(ctx, snap, ns, ref.Deployment)
	if out != nil {
		return *out
	}
	rss, unreadable := listTyped[appsv1.ReplicaSet](ctx, snap, replicaSetsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	pods, unreadable := listTyped[corev1.Pod](ctx, snap, podsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	_, cur := replicaSetsOf(d, rss)
	if cur == nil {
		return failed(fmt.Sprintf("deployment %s has no ReplicaSet for its current template yet; wait a moment for the deployment controller", d.Name))
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return Outcome{Status: Error, Messages: []string{fmt.Sprintf("deployment %s has an invalid selector: %v", d.Name, err)}}
	}
	since := lastSpecWrite(d)
	if t := lastSpecWrite(cur); t.After(since) {
		since = t
	}
	var names []string
	live := map[string]bool{}
	for i := range pods {
		p := &pods[i]
		if !sel.Matches(labels.Set(p.Labels)) || !ownedBy(p, "ReplicaSet", cur.Name, cur.UID) {
			continue
		}
		if !p.CreationTimestamp.Time.Before(since.Add(replacementDelay)) {
			return passed()
		}
		if podActive(p) {
			names = append(names, p.Name)
			live[p.Name] = true
		}
	}
	if len(names) == 0 {
		return failed(fmt.Sprintf("deployment %s has no running pods to replace yet; wait for its rollout to finish", d.Name))
	}
	events, unreadable := listTyped[corev1.Event](ctx, snap, coreEventsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	if vanishedPod(cur, events, live) {
		return passed()
	}
	slices.Sort(names)
	return failed(fmt.Sprintf("no pod of deployment %s has been replaced yet: delete one with kubectl delete pod %s and watch a new one appear", d.Name, names[0]))
}

// vanishedPod reports whether rs's events show a pod it created that is
// no longer running although rs never deleted it. The ReplicaSet keeps its
// count, so such a pod has been (or is being) replaced.
func vanishedPod(rs *appsv1.ReplicaSet, events []corev1.Event, live map[string]bool) bool {
	const combined = "(combined from similar events): "
	created := map[string]bool{}
	deleted := map[string]bool{}
	for i := range events {
		ev := &events[i]
		o := ev.InvolvedObject
		if o.Kind != "ReplicaSet" || o.Name != rs.Name || (rs.UID != "" && o.UID != "" && o.UID != rs.UID) {
			continue
		}
		msg, merged := strings.CutPrefix(ev.Message, combined)
		switch ev.Reason {
		case "SuccessfulCreate":
			if name, ok := strings.CutPrefix(msg, "Created pod: "); ok {
				created[name] = true
			}
		case "SuccessfulDelete":
			if merged {
				// The event recorder folded deletions together, so
				// some of the pods the ReplicaSet removed are not named.
				return false
			}
			if name, ok := strings.CutPrefix(msg, "Deleted pod: "); ok {
				deleted[name] = true
			}
		}
	}
	for name := range created {
		if !live[name] && !deleted[name] {
			return true
		}
	}
	return false
}

func controlPlane(n *corev1.Node) bool {
	_, cp := n.Labels[controlPlaneRoleLabel]
	_, master := n.Labels[legacyMasterRoleLabel]
	return cp || master
}

func nodeRole(n *corev1.Node) string {
	if controlPlane(n) {
		return "control-plane"
	}
	return "worker"
}

// nodeLabelled holds when a node of the role has the label and, with
// Only, no other node has it.
func nodeLabelled(ctx context.Context, snap Snapshot, spec NodeLabelled) Outcome {
	role := spec.Role
	if role == "" {
		role = "worker"
	}
	switch {
	case spec.Key == "":
		return Outcome{Status: Error, Messages: []string{"nodeLabelled needs a key"}}
	case role != "worker" && role != "control-plane" && role != "any":
		return Outcome{Status: Error, Messages: []string{fmt.Sprintf("nodeLabelled role %q must be worker, control-plane or any", spec.Role)}}
	}
	nodes, unreadable := listTyped[corev1.Node](ctx, snap, nodesGVR, "")
	if unreadable != nil {
		return *unreadable
	}
	slices.SortFunc(nodes, func(a, b corev1.Node) int { return strings.Compare(a.Name, b.Name) })

	label := spec.Key
	if spec.Value != "" {
		label += "=" + spec.Value
	}
	has := func(n *corev1.Node) bool {
		v, ok := n.Labels[spec.Key]
		return ok && (spec.Value == "" || v == spec.Value)
	}
	ofRole := "node"
	if role != "any" {
		ofRole = role + " node"
	}
	example := spec.Key + "=" + spec.Value
	if spec.Value == "" {
		example = spec.Key + "=<value>"
	}

	var inRole, found, wrongValue, outsideWith []*corev1.Node
	for i := range nodes {
		n := &nodes[i]
		if role == "any" || nodeRole(n) == role {
			inRole = append(inRole, n)
			if has(n) {
				found = append(found, n)
			} else if _, ok := n.Labels[spec.Key]; ok {
				wrongValue = append(wrongValue, n)
			}
			continue
		}
		if has(n) {
			outsideWith = append(outsideWith, n)
		}
	}
	if len(inRole) == 0 {
		return failed(fmt.Sprintf("the cluster has no %ss to label", ofRole))
	}

	var msgs []string
	if len(found) == 0 {
		switch {
		case len(wrongValue) > 0:
			n := wrongValue[0]
			msgs = append(msgs, fmt.Sprintf("no %s has the label %s: %s %s has %s=%s instead (label values are case-sensitive); change it with kubectl label node %s %s --overwrite",
				ofRole, label, ofRole, n.Name, spec.Key, n.Labels[spec.Key], n.Name, example))
		case len(outsideWith) > 0:
			n := outsideWith[0]
			msg := fmt.Sprintf("no %s has the label %s; only the %s node %s has it: label a %s with kubectl label node %s %s",
				ofRole, label, nodeRole(n), n.Name, ofRole, inRole[0].Name, example)
			if spec.Only {
				msg += fmt.Sprintf(", and remove it from %s with kubectl label node %s %s-", n.Name, n.Name, spec.Key)
				outsideWith = outsideWith[1:]
			}
			msgs = append(msgs, msg)
		default:
			msgs = append(msgs, fmt.Sprintf("no %s has the label %s: add it with kubectl label node %s %s", ofRole, label, inRole[0].Name, example))
		}
	}
	if spec.Only {
		for _, n := range outsideWith {
			msgs = append(msgs, fmt.Sprintf("the %s node %s also has %s; label only %ss (remove it with kubectl label node %s %s-)",
				nodeRole(n), n.Name, label, ofRole, n.Name, spec.Key))
		}
	}
	if len(msgs) > 0 {
		return failed(msgs...)
	}
	return passed()
}

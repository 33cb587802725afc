package checks

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/k8slab/k8slab/clustercache"
	"github.com/k8slab/k8slab/internal/kube"
	"github.com/k8slab/k8slab/labfile"
)

func init() {
	registerCheckKind("serviceEndpoints", func() CheckKind { return &ServiceEndpoints{} })
}

// ServiceEndpoints holds when the service's EndpointSlices list exactly
// the ready pods of the deployment.
type ServiceEndpoints struct {
	Service    string `yaml:"service"`
	Deployment string `yaml:"deployment"`
	// Investigate: finding why the Service reaches no pod is the task, so
	// a selector that matches none points at where to look instead of
	// naming the pods' labels.
	Investigate bool `yaml:"investigate"`
}

func (c *ServiceEndpoints) Validate(v *labfile.Validator, node *yaml.Node, what string) {
	if c.Service == "" || c.Deployment == "" {
		v.Add(node, "%s: serviceEndpoints needs service and deployment", what)
	}
}

func (c *ServiceEndpoints) reads(ns string) []clustercache.Key {
	return inLabNamespace(ns, kube.ServicesGVR, kube.EndpointSlicesGVR, kube.PodsGVR, kube.DeploymentsGVR)
}

func (c *ServiceEndpoints) evaluate(ctx context.Context, snap clustercache.Snapshot, ns string) Outcome {
	return serviceEndpoints(ctx, snap, ns, *c)
}

// serviceEndpoints holds when the service's EndpointSlices route to
// exactly the deployment's ready pods. Each way it can go wrong has its
// own message, since each has a different fix.
func serviceEndpoints(ctx context.Context, snap clustercache.Snapshot, ns string, spec ServiceEndpoints) Outcome {
	svc, out := getService(ctx, snap, ns, spec.Service)
	if out != nil {
		return *out
	}
	d, out := getDeployment(ctx, snap, ns, spec.Deployment)
	if out != nil {
		return *out
	}
	pods, unreadable := listTyped[corev1.Pod](ctx, snap, kube.PodsGVR, ns)
	if unreadable != nil {
		return *unreadable
	}
	eps, unreadable := listTyped[discoveryv1.EndpointSlice](ctx, snap, kube.EndpointSlicesGVR, ns)
	if unreadable != nil {
		return *unreadable
	}

	dSel, out := deploymentSelector(d)
	if out != nil {
		return *out
	}
	want := kube.PodLabels(d.Spec.Template.Labels)
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
		if mine && kube.PodReady(p) {
			ready[p.Name] = true
		}
		if kube.PodActive(p) && sSel.Matches(labels.Set(p.Labels)) {
			if mine {
				ours = append(ours, p.Name)
			} else {
				foreign = append(foreign, p.Name)
			}
		}
	}

	// Scaled to zero, the deployment makes no pods however long one
	// waits: not the cluster catching up, but a count to change.
	scaledToZero := d.Spec.Replicas != nil && *d.Spec.Replicas == 0
	switch {
	case len(ours) == 0 && len(foreign) == 0 && scaledToZero && sSel.Matches(labels.Set(d.Spec.Template.Labels)):
		return failed(fmt.Sprintf("service %s selects %s, which fits deployment %s's pods, but deployment %s is scaled to 0 replicas, so no pod is there to send traffic to: scale it up (kubectl scale deployment %s --replicas=N)", svc.Name, have, d.Name, d.Name, d.Name))
	case len(ours) == 0 && len(foreign) == 0 && sSel.Matches(labels.Set(d.Spec.Template.Labels)):
		return settling(fmt.Sprintf("service %s selects %s, which fits deployment %s's pods, but the deployment has no running pods yet", svc.Name, have, d.Name))
	case len(ours) == 0 && len(foreign) == 0 && spec.Investigate:
		return failed(fmt.Sprintf("service %s selects %s, which matches no pods: compare it with the labels deployment %s's pods carry (kubectl get pods --show-labels)", svc.Name, have, d.Name))
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

	msgs = append(msgs, unreachablePorts(svc, d.Name, ready, byName)...)

	// Endpoints that are not ready get no traffic, so only ready ones
	// count; the EndpointSlice controller lists unready pods too.
	listed := map[string]bool{}
	var gone, strangers, notReady, addrs []string
	for i := range eps {
		es := &eps[i]
		if es.Labels[kube.ServiceNameLabel] != svc.Name {
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
				case !kube.PodReady(p):
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
	// Endpoints that lag behind the pods are the EndpointSlice controller
	// catching up; every other message asks the learner to change something.
	catchingUp := 0
	if len(gone) > 0 {
		catchingUp++
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
			svc.Name, plural(len(unselected), "pod", "pods"), nameList(unselected), d.Name, have, plural(len(unselected), "it", "them"), kube.PodLabels(byName[unselected[0]].Labels)))
	}
	if len(pending) > 0 {
		catchingUp++
		msgs = append(msgs, fmt.Sprintf("ready %s %s of deployment %s %s not among service %s's endpoints yet; wait a moment for them to catch up",
			plural(len(pending), "pod", "pods"), nameList(pending), d.Name, plural(len(pending), "is", "are"), svc.Name))
	}
	switch {
	case len(msgs) > 0 && len(msgs) == catchingUp:
		return settling(msgs...)
	case len(msgs) > 0:
		return failed(msgs...)
	}
	return passed()
}

// unreachablePorts says which of svc's ports lead nowhere on the
// deployment's ready pods: a named targetPort that a pod does not declare
// (Kubernetes then leaves the pod out of that port's endpoints), or a
// number that none of its containers declares when they declare their
// ports. A Service so set up selects the right pods and reaches nothing.
func unreachablePorts(svc *corev1.Service, deployment string, ready map[string]bool, byName map[string]*corev1.Pod) []string {
	names := make([]string, 0, len(ready))
	for n := range ready {
		names = append(names, n)
	}
	slices.Sort(names)
	var msgs []string
	for _, sp := range svc.Spec.Ports {
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		// One ready pod that has the port is enough: during a rollout the
		// old template's pods may differ, and they are on their way out.
		found := false
		var example string
		var declared []string
		for _, n := range names {
			var ports []string
			for _, c := range byName[n].Spec.Containers {
				for _, cp := range c.Ports {
					if cp.Protocol != proto && (cp.Protocol != "" || proto != corev1.ProtocolTCP) {
						continue
					}
					label := strconv.Itoa(int(cp.ContainerPort))
					if cp.Name != "" {
						label = cp.Name + " (" + label + ")"
					}
					ports = append(ports, label)
					if sp.TargetPort.Type == intstr.String && cp.Name == sp.TargetPort.StrVal ||
						sp.TargetPort.Type == intstr.Int && targetNumber(sp) == cp.ContainerPort {
						found = true
					}
				}
			}
			if example == "" {
				example, declared = n, ports
			}
		}
		switch {
		case found || example == "":
		case sp.TargetPort.Type == intstr.String && len(declared) == 0:
			msgs = append(msgs, fmt.Sprintf("service %s sends port %d to the port named %s, but pod %s of deployment %s names none of its ports, so the Service reaches nothing there; use the number the container listens on, or name that port %s in the pod template",
				svc.Name, sp.Port, sp.TargetPort.StrVal, example, deployment, sp.TargetPort.StrVal))
		case sp.TargetPort.Type == intstr.String:
			msgs = append(msgs, fmt.Sprintf("service %s sends port %d to the port named %s, which pod %s of deployment %s does not have (its ports: %s), so the Service reaches nothing there; set targetPort to one of them",
				svc.Name, sp.Port, sp.TargetPort.StrVal, example, deployment, strings.Join(declared, ", ")))
		case len(declared) > 0:
			msgs = append(msgs, fmt.Sprintf("service %s sends port %d to port %d, but deployment %s's containers listen on %s (pod %s), so the Service reaches nothing; set targetPort to that port",
				svc.Name, sp.Port, targetNumber(sp), deployment, strings.Join(declared, ", "), example))
		}
	}
	return msgs
}

// targetNumber is the port traffic goes to: targetPort, or port when it
// is left out.
func targetNumber(sp corev1.ServicePort) int32 {
	if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal != 0 {
		return sp.TargetPort.IntVal
	}
	return sp.Port
}

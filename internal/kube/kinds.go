package kube

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RequestTimeout bounds every single request k8slab makes to a cluster
// (a watch is not a request: it has none). It is a bound on one answer,
// not on a controller: waiting for a rollout or a pod is a wait for an
// event with a deadline of its own. A slow answer is not a wrong one: a
// kind cluster on a loaded machine took over 5 s to answer a list or an
// apply, and over 30 s to read a namespace at a load of 75 on 2 cores.
// The API server gives a request 60 s (kube-apiserver --request-timeout)
// before it answers 504 itself, so k8slab waits as long and no longer. A
// server that is down refuses the connection at once.
const RequestTimeout = 60 * time.Second

// Kind is how a kind maps to its API resource.
type Kind struct {
	GVR        schema.GroupVersionResource
	Namespaced bool
}

// knownKinds are the kinds labs use. A fixed table costs no discovery
// requests; anything else is an authoring error that lint reports.
var knownKinds = map[string]Kind{
	"v1/Pod":                                 {schema.GroupVersionResource{Version: "v1", Resource: "pods"}, true},
	"v1/Service":                             {schema.GroupVersionResource{Version: "v1", Resource: "services"}, true},
	"v1/ConfigMap":                           {schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}, true},
	"v1/Secret":                              {schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, true},
	"v1/PersistentVolumeClaim":               {schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumeclaims"}, true},
	"v1/Event":                               {schema.GroupVersionResource{Version: "v1", Resource: "events"}, true},
	"v1/Node":                                {schema.GroupVersionResource{Version: "v1", Resource: "nodes"}, false},
	"v1/Namespace":                           {schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}, false},
	"v1/PersistentVolume":                    {schema.GroupVersionResource{Version: "v1", Resource: "persistentvolumes"}, false},
	"apps/v1/Deployment":                     {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true},
	"apps/v1/ReplicaSet":                     {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "replicasets"}, true},
	"apps/v1/StatefulSet":                    {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, true},
	"apps/v1/DaemonSet":                      {schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"}, true},
	"discovery.k8s.io/v1/EndpointSlice":      {schema.GroupVersionResource{Group: "discovery.k8s.io", Version: "v1", Resource: "endpointslices"}, true},
	"autoscaling/v2/HorizontalPodAutoscaler": {schema.GroupVersionResource{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"}, true},
	"networking.k8s.io/v1/Ingress":           {schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, true},
	"storage.k8s.io/v1/StorageClass":         {schema.GroupVersionResource{Group: "storage.k8s.io", Version: "v1", Resource: "storageclasses"}, false},
	"batch/v1/Job":                           {schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, true},
}

// Resources k8slab reads or writes by name.
var (
	DeploymentsGVR              = knownKinds["apps/v1/Deployment"].GVR
	ReplicaSetsGVR              = knownKinds["apps/v1/ReplicaSet"].GVR
	PodsGVR                     = knownKinds["v1/Pod"].GVR
	ServicesGVR                 = knownKinds["v1/Service"].GVR
	EndpointSlicesGVR           = knownKinds["discovery.k8s.io/v1/EndpointSlice"].GVR
	NodesGVR                    = knownKinds["v1/Node"].GVR
	NamespacesGVR               = knownKinds["v1/Namespace"].GVR
	EventsGVR                   = knownKinds["v1/Event"].GVR
	PersistentVolumeClaimsGVR   = knownKinds["v1/PersistentVolumeClaim"].GVR
	ConfigMapsGVR               = knownKinds["v1/ConfigMap"].GVR
	SecretsGVR                  = knownKinds["v1/Secret"].GVR
	StatefulSetsGVR             = knownKinds["apps/v1/StatefulSet"].GVR
	DaemonSetsGVR               = knownKinds["apps/v1/DaemonSet"].GVR
	JobsGVR                     = knownKinds["batch/v1/Job"].GVR
	HorizontalPodAutoscalersGVR = knownKinds["autoscaling/v2/HorizontalPodAutoscaler"].GVR
	IngressesGVR                = knownKinds["networking.k8s.io/v1/Ingress"].GVR
)

// Resources that are not kinds labs use: k8slab waits for a namespace's
// default service account, and a workshop fences, grants and resets
// learners' namespaces with these.
var (
	ServiceAccountsGVR      = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}
	ResourceQuotasGVR       = schema.GroupVersionResource{Version: "v1", Resource: "resourcequotas"}
	LimitRangesGVR          = schema.GroupVersionResource{Version: "v1", Resource: "limitranges"}
	RolesGVR                = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}
	RoleBindingsGVR         = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}
	ClusterRolesGVR         = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	ClusterRoleBindingsGVR  = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
	NetworkPoliciesGVR      = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	CronJobsGVR             = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}
	PodDisruptionBudgetsGVR = schema.GroupVersionResource{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"}
)

// KnownKind looks up a kind by "apiVersion/Kind" ("apps/v1/Deployment").
func KnownKind(key string) (Kind, bool) {
	k, ok := knownKinds[key]
	return k, ok
}

// LookupKind finds the resource for apiVersion and kind, among the kinds
// labs use.
func LookupKind(apiVersion, kind string) (Kind, error) {
	if k, ok := knownKinds[apiVersion+"/"+kind]; ok {
		return k, nil
	}
	var known []string
	for k := range knownKinds {
		if strings.HasSuffix(k, "/"+kind) {
			known = append(known, strings.TrimSuffix(k, "/"+kind))
		}
	}
	if len(known) > 0 {
		return Kind{}, fmt.Errorf("%s is served as apiVersion %s, not %q", kind, strings.Join(known, " or "), apiVersion)
	}
	return Kind{}, fmt.Errorf("kind %s %s is not one that checks can read", apiVersion, kind)
}

package checks

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// RequestTimeout bounds every request a check makes.
const RequestTimeout = 10 * time.Second

// kindInfo is how a kind maps to its API resource.
type kindInfo struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

// knownKinds are the kinds labs use. A fixed table costs no discovery
// requests; anything else is an authoring error that lint reports.
var knownKinds = map[string]kindInfo{
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

// Resources used by the built-in predicates.
var (
	deploymentsGVR    = knownKinds["apps/v1/Deployment"].gvr
	replicaSetsGVR    = knownKinds["apps/v1/ReplicaSet"].gvr
	podsGVR           = knownKinds["v1/Pod"].gvr
	servicesGVR       = knownKinds["v1/Service"].gvr
	endpointSlicesGVR = knownKinds["discovery.k8s.io/v1/EndpointSlice"].gvr
	nodesGVR          = knownKinds["v1/Node"].gvr
)

// lookupKind finds the resource for apiVersion and kind.
func lookupKind(apiVersion, kind string) (kindInfo, error) {
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
		return kindInfo{}, fmt.Errorf("%s is served as apiVersion %s, not %q", kind, strings.Join(known, " or "), apiVersion)
	}
	return kindInfo{}, fmt.Errorf("kind %s %s is not one that checks can read", apiVersion, kind)
}

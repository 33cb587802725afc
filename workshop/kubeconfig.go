package workshop

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/k8slab/k8slab/internal/atomicfile"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Marker is the context extension that tells k8slab the kubeconfig is a
// workshop learner's, so labs bind to the learner's namespaces.
type Marker struct {
	Workshop string `json:"workshop"`
	Learner  string `json:"learner"`
}

// MarkerExtension is the marker's name in the kubeconfig context.
const MarkerExtension = "k8slab.dev/workshop"

func (w *initializer) writeKubeconfig(learner, token string) (string, error) {
	rc := w.c.Config
	cluster := clientcmdapi.NewCluster()
	cluster.Server = rc.Host
	if w.opts.Server != "" {
		cluster.Server = w.opts.Server
	}
	cluster.CertificateAuthorityData = rc.CAData
	if len(cluster.CertificateAuthorityData) == 0 && rc.CAFile != "" {
		data, err := os.ReadFile(rc.CAFile)
		if err != nil {
			return "", fmt.Errorf("reading the cluster's CA: %w", err)
		}
		cluster.CertificateAuthorityData = data
	}
	cluster.InsecureSkipTLSVerify = rc.Insecure
	cluster.TLSServerName = rc.ServerName
	name := "k8slab-" + w.p.Name + "-" + learner
	user := clientcmdapi.NewAuthInfo()
	user.Token = token
	kctx := clientcmdapi.NewContext()
	kctx.Cluster, kctx.AuthInfo = name, name
	kctx.Namespace = LabNamespace(w.p.Name, learner, w.p.Labs[0].ID)
	marker, err := json.Marshal(Marker{Workshop: w.p.Name, Learner: learner})
	if err != nil {
		return "", err
	}
	kctx.Extensions[MarkerExtension] = &runtime.Unknown{Raw: marker, ContentType: runtime.ContentTypeJSON}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = cluster
	cfg.AuthInfos[name] = user
	cfg.Contexts[name] = kctx
	cfg.CurrentContext = name
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return "", err
	}
	path := filepath.Join(w.opts.OutDir, learner+".kubeconfig")
	// Only its owner can read it, from the first byte: the file holds a
	// token.
	return path, atomicfile.WriteFile(path, data, 0o600)
}

// ReadMarker returns the workshop marker of the kubeconfig's current (or
// named) context, or nil when it is not a learner's.
func ReadMarker(cfg *clientcmdapi.Config, context string) *Marker {
	if context == "" {
		context = cfg.CurrentContext
	}
	kctx, ok := cfg.Contexts[context]
	if !ok || kctx.Extensions == nil {
		return nil
	}
	ext, ok := kctx.Extensions[MarkerExtension]
	if !ok {
		return nil
	}
	var raw []byte
	switch e := ext.(type) {
	case *runtime.Unknown:
		raw = e.Raw
	default:
		return nil
	}
	var m Marker
	if json.Unmarshal(raw, &m) != nil || m.Workshop == "" || m.Learner == "" {
		return nil
	}
	return &m
}

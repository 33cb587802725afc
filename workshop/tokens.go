package workshop

import (
	"context"
	"fmt"
	"time"

	"github.com/k8slab/k8slab/internal/ident"
	"github.com/k8slab/k8slab/internal/kube"
	authv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// TokenSecret is the Secret in a learner's home namespace that their
// token is bound to. The API server accepts a bound token only while the
// object it names exists with the same uid, so deleting the Secret
// revokes every token issued for it: revoke deletes it, and init makes it
// anew before issuing tokens. It holds no data; the learner has no
// rights in their home namespace, so cannot read or recreate it.
const TokenSecret = "k8slab-token"

// tokenBinding replaces the learner's token Secret with a new one and
// returns it: the tokens bound to the old one stop working.
func tokenBinding(ctx context.Context, c Clients, workshop, learner string) (*unstructured.Unstructured, error) {
	home := HomeNamespace(workshop, learner)
	if err := deleteTokenSecret(ctx, c, home); err != nil {
		return nil, err
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: TokenSecret, Namespace: home, Labels: map[string]string{WorkshopLabel: workshop, LearnerLabel: learner}},
		Type:       corev1.SecretTypeOpaque,
	})
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	s, err := c.Dynamic.Resource(kube.SecretsGVR).Namespace(home).Create(cctx, &unstructured.Unstructured{Object: u}, metav1.CreateOptions{FieldManager: FieldManager})
	if err != nil {
		return nil, fmt.Errorf("creating the token's Secret %s/%s: %w", home, TokenSecret, err)
	}
	return s, nil
}

// deleteTokenSecret deletes the Secret and waits until it is gone, so
// that a new one of the same name gets a new uid.
func deleteTokenSecret(ctx context.Context, c Clients, home string) error {
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	// Foreground: a Secret has no dependents, so this returns once it is
	// gone; there is no finalizer to wait for.
	err := c.Dynamic.Resource(kube.SecretsGVR).Namespace(home).Delete(cctx, TokenSecret, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting the token's Secret %s/%s: %w", home, TokenSecret, err)
	}
	return nil
}

// boundTo is the reference a TokenRequest binds its token to.
func boundTo(s *unstructured.Unstructured) (kind, name string, uid types.UID) {
	return "Secret", s.GetName(), s.GetUID()
}

// Revoke invalidates every token issued to learner in workshop: their
// kubeconfig stops working (the API server answers 401 Unauthorized once
// its token cache, about ten seconds, has expired). 'workshop init' again
// issues them a new one.
func Revoke(ctx context.Context, c Clients, workshop, learner string) error {
	if !ident.Valid(workshop) || !ident.Valid(learner) {
		return fmt.Errorf("workshop %q, learner %q: use lowercase letters, digits and dashes", workshop, learner)
	}
	home := HomeNamespace(workshop, learner)
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	ns, err := c.Dynamic.Resource(kube.NamespacesGVR).Get(cctx, home, metav1.GetOptions{})
	cancel()
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("workshop %s has no learner %s (no namespace %s); the learner ids are the kubeconfig names, such as learner-01", workshop, learner, home)
	}
	if err != nil {
		return fmt.Errorf("reading namespace %s: %w", home, err)
	}
	if l := ns.GetLabels(); l[WorkshopLabel] != workshop || l[LearnerLabel] != learner {
		return fmt.Errorf("namespace %s is not workshop %s's home for learner %s; k8slab will not touch it", home, workshop, learner)
	}
	return deleteTokenSecret(ctx, c, home)
}

// token issues the learner a token bound to a fresh TokenSecret, which
// revokes every token issued before.
func (w *initializer) token(ctx context.Context, learner string) (string, error) {
	home := HomeNamespace(w.p.Name, learner)
	secret, err := tokenBinding(ctx, w.c, w.p.Name, learner)
	if err != nil {
		return "", err
	}
	kind, name, uid := boundTo(secret)
	secs := int64(w.opts.TokenTTL / time.Second)
	cctx, cancel := context.WithTimeout(ctx, kube.RequestTimeout)
	defer cancel()
	req, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&authv1.TokenRequest{
		TypeMeta: metav1.TypeMeta{APIVersion: "authentication.k8s.io/v1", Kind: "TokenRequest"},
		// The dynamic client takes the service account's name from here.
		ObjectMeta: metav1.ObjectMeta{Name: LearnerAccount, Namespace: home},
		Spec: authv1.TokenRequestSpec{ExpirationSeconds: &secs,
			BoundObjectRef: &authv1.BoundObjectReference{Kind: kind, APIVersion: "v1", Name: name, UID: uid}},
	})
	if err != nil {
		return "", err
	}
	// The serviceaccounts/token subresource takes a TokenRequest and
	// answers with one, its status holding the token.
	u, err := w.c.Dynamic.Resource(kube.ServiceAccountsGVR).Namespace(home).Create(cctx,
		&unstructured.Unstructured{Object: req}, metav1.CreateOptions{}, "token")
	if err != nil {
		return "", fmt.Errorf("requesting a token for %s/%s: %w", home, LearnerAccount, err)
	}
	var tr authv1.TokenRequest
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &tr); err != nil {
		return "", fmt.Errorf("reading the token for %s/%s: %w", home, LearnerAccount, err)
	}
	if tr.Status.Token == "" {
		return "", fmt.Errorf("the API server issued no token for %s/%s", home, LearnerAccount)
	}
	return tr.Status.Token, nil
}

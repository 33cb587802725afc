package clusterctl

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"k8s.io/client-go/rest"
)

// A server that answers, even with an error, is reachable: the checks
// judge forbidden and unauthorized per object. One that does not answer is
// reported once, with where it was and what to do.
func TestReach(t *testing.T) {
	for _, code := range []int{http.StatusOK, http.StatusForbidden, http.StatusUnauthorized} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			if code == http.StatusOK {
				w.Write([]byte(`{"gitVersion":"v1.37.2"}`))
				return
			}
			w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}`))
		}))
		if err := Reach(context.Background(), &rest.Config{Host: srv.URL}); err != nil {
			t.Errorf("server answering %d: %v, want reachable", code, err)
		}
		srv.Close()
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	err := Reach(context.Background(), &rest.Config{Host: srv.URL})
	if err == nil || !strings.Contains(err.Error(), "cannot reach the cluster at "+srv.URL) || !strings.Contains(err.Error(), "k8slab cluster up") {
		t.Errorf("closed server: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "/version") {
		t.Errorf("the error repeats the request's URL: %v", err)
	}
}

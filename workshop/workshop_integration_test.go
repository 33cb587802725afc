package workshop_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/clusterctl"
	"github.com/k8slab/k8slab/clusterctl/clustertest"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labenv"
	"github.com/k8slab/k8slab/workshop"
)

func clientsFor(t *testing.T, kubeconfig string) workshop.Clients {
	t.Helper()
	rc, err := clusterctl.RESTConfig(kubeconfig, "")
	if err != nil {
		t.Fatal(err)
	}
	c, err := workshop.NewClients(rc)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// typed gives tests the typed clientset, which the binary does without.
func typed(tb testing.TB, c workshop.Clients) kubernetes.Interface {
	tb.Helper()
	k, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestWorkshopOnSimulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	p, dir := clustertest.Start(t, "k8slab-workshop")
	admin := clientsFor(t, p.KubeconfigPath())
	adminK := typed(t, admin)
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	out := filepath.Join(dir, "kubeconfigs")
	plan := workshop.Plan{Name: "ws", Learners: workshop.LearnerIDs(3), Labs: builtIn.AllLabs()}

	res, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Kubeconfigs) != 3 {
		t.Fatalf("want 3 kubeconfigs, got %v", res.Kubeconfigs)
	}
	for _, k := range res.Kubeconfigs {
		st, err := os.Stat(k)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600: it holds a token", k, st.Mode().Perm())
		}
	}
	if !res.Access.IsRestricted("explore-cluster", "label-worker") {
		t.Errorf("labelling nodes is not reported as needing cluster-wide rights: %+v", res.Access.Restricted)
	}
	before := countLabelled(t, admin, "ws")

	// Idempotent: a second run changes nothing; a bigger class grows.
	if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out, Force: true}); err != nil {
		t.Fatalf("second init: %v", err)
	}
	if again := countLabelled(t, admin, "ws"); again != before {
		t.Errorf("second init changed the objects: %s, then %s", before, again)
	}
	plan.Learners = workshop.LearnerIDs(4)
	if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out, Force: true}); err != nil {
		t.Fatalf("growing the class: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "learner-04.kubeconfig")); err != nil {
		t.Errorf("the new learner has no kubeconfig: %v", err)
	}

	a, b := "learner-01", "learner-02"
	aPath := filepath.Join(out, a+".kubeconfig")
	marker := readMarker(t, aPath)
	if marker == nil || marker.Workshop != "ws" || marker.Learner != a {
		t.Fatalf("learner kubeconfig marker = %+v", marker)
	}
	learnerA := clientsFor(t, aPath)
	learnerAK := typed(t, learnerA)
	pods, _ := builtIn.Lab("pods")
	aNS := workshop.LabNamespace("ws", a, "pods")
	bNS := workshop.LabNamespace("ws", b, "pods")

	t.Run("learner works in own namespace", func(t *testing.T) {
		// Labs are set up on the learner's first start, not by init.
		if left, err := adminK.CoreV1().Pods(aNS).List(ctx, metav1.ListOptions{}); err != nil || len(left.Items) != 0 {
			t.Fatalf("init set up the pods lab before the learner started it: %v, %d pods", err, len(left.Items))
		}
		if err := labenv.StartLab(ctx, learnerA.Dynamic, pods, aNS); err != nil {
			t.Fatalf("lab start as the learner: %v", err)
		}
		kube := filepath.Join(dir, "a-pods.kubeconfig")
		if err := clusterctl.WriteNamespacedKubeconfig(aPath, "", aNS, kube); err != nil {
			t.Fatal(err)
		}
		for _, task := range pods.Tasks {
			for _, st := range task.Solution {
				if err := labenv.RunStep(ctx, learnerA.Dynamic, kube, aNS, st); err != nil {
					t.Fatalf("task %s as the learner: %v", task.ID, err)
				}
			}
		}
		if _, err := learnerAK.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("reading nodes, which a lab needs: %v", err)
		}
		if _, err := learnerAK.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{}); err != nil {
			t.Errorf("reading kube-system pods, which a lab needs: %v", err)
		}
	})

	t.Run("learner is fenced in", func(t *testing.T) {
		forbidden := func(what string, err error) {
			t.Helper()
			if !apierrors.IsForbidden(err) {
				t.Errorf("%s: want 403 Forbidden, got %v", what, err)
			}
		}
		_, err := learnerAK.CoreV1().Pods(bNS).List(ctx, metav1.ListOptions{})
		forbidden("listing B's pods", err)
		_, err = learnerAK.CoreV1().Pods(bNS).Get(ctx, "broken", metav1.GetOptions{})
		forbidden("reading B's pod", err)
		_, err = learnerAK.CoreV1().ConfigMaps(bNS).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
		forbidden("creating in B's namespace", err)
		err = learnerAK.CoreV1().Pods(bNS).Delete(ctx, "broken", metav1.DeleteOptions{})
		forbidden("deleting B's pod", err)
		_, err = learnerAK.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mine"}}, metav1.CreateOptions{})
		forbidden("creating a namespace", err)
		_, err = learnerAK.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}}, metav1.CreateOptions{})
		forbidden("creating a cluster role binding", err)
		_, err = learnerAK.RbacV1().RoleBindings(aNS).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
			RoleRef: rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "cluster-admin"}}, metav1.CreateOptions{})
		forbidden("granting itself more rights in its own namespace", err)
		nodes, err := adminK.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) == 0 {
			t.Fatalf("nodes: %v", err)
		}
		_, err = learnerAK.CoreV1().Nodes().Patch(ctx, nodes.Items[0].Name, types.MergePatchType, []byte(`{"metadata":{"labels":{"disk":"ssd"}}}`), metav1.PatchOptions{})
		forbidden("labelling a node", err)
		err = learnerAK.CoreV1().ResourceQuotas(aNS).Delete(ctx, "k8slab-quota", metav1.DeleteOptions{})
		forbidden("deleting its quota", err)
		_, err = learnerAK.CoreV1().ServiceAccounts(workshop.HomeNamespace("ws", b)).Get(ctx, workshop.LearnerAccount, metav1.GetOptions{})
		forbidden("reading B's service account", err)

		// Over the quota: pods until one is refused.
		var last error
		for i := range 30 {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("filler-%d", i)},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx:1.27"}}}}
			if _, last = learnerAK.CoreV1().Pods(aNS).Create(ctx, pod, metav1.CreateOptions{}); last != nil {
				break
			}
		}
		forbidden("going over the pod quota", last)
		if last != nil && !strings.Contains(last.Error(), "exceeded quota") {
			t.Errorf("quota refusal does not say so: %v", last)
		}
		if err := learnerAK.CoreV1().Pods(aNS).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "!app"}); err != nil {
			t.Errorf("cleaning up the filler pods: %v", err)
		}
	})

	t.Run("status grades the class", func(t *testing.T) {
		var table workshop.Table
		deadline := time.Now().Add(30 * time.Second)
		for {
			var err error
			if table, err = workshop.Snapshot(ctx, admin, "ws", builtIn.AllLabs()); err != nil {
				t.Fatal(err)
			}
			if c, _ := table.Cell(a, "pods"); c.State == workshop.Passed || time.Now().After(deadline) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		if len(table.Rows) != 4 {
			t.Errorf("want 4 learners, got %d", len(table.Rows))
		}
		if c, _ := table.Cell(a, "pods"); c.State != workshop.Passed {
			t.Errorf("A's finished pods lab: %+v", c)
		}
		if c, _ := table.Cell(b, "pods"); c.State != workshop.NotStarted {
			t.Errorf("B's untouched pods lab: %+v", c)
		}
		if c, _ := table.Cell(a, "explore-cluster"); c.State != workshop.NotGraded {
			t.Errorf("explore-cluster has only questions and cluster-wide tasks, yet: %+v", c)
		}
		var buf bytes.Buffer
		if err := workshop.Export(&buf, table, "csv"); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 5 {
			t.Fatalf("csv: %v, %d records", err, len(recs))
		}
	})

	t.Run("learner resets own lab", func(t *testing.T) {
		if err := workshop.ResetLab(ctx, learnerA.Dynamic, pods, aNS); err != nil {
			t.Fatalf("reset with a learner's rights: %v", err)
		}
		if _, err := learnerAK.CoreV1().Pods(aNS).Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("pod web survived the reset: %v", err)
		}
		broken, err := learnerAK.CoreV1().Pods(aNS).Get(ctx, "broken", metav1.GetOptions{})
		if err != nil || broken.Spec.Containers[0].Image != "nginx:1.27-doesnotexist" {
			t.Errorf("the setup's broken pod is not back as it was: %v", err)
		}
		if _, err := learnerAK.RbacV1().Roles(aNS).Get(ctx, "k8slab-learner", metav1.GetOptions{}); apierrors.IsNotFound(err) {
			t.Error("the reset took the learner's Role with it")
		}
	})

	t.Run("learner claims the volume init provided", func(t *testing.T) {
		storage, _ := builtIn.Lab("storage")
		sNS := workshop.LabNamespace("ws", a, "storage")
		pvName := sNS + "-data"
		volume := func(want corev1.PersistentVolumePhase) *corev1.PersistentVolume {
			t.Helper()
			var pv *corev1.PersistentVolume
			var err error
			for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				if pv, err = adminK.CoreV1().PersistentVolumes().Get(ctx, pvName, metav1.GetOptions{}); err == nil && pv.Status.Phase == want {
					return pv
				}
			}
			t.Fatalf("volume %s never became %s: %v", pvName, want, err)
			return nil
		}
		claim := func() {
			t.Helper()
			class := "manual"
			_, err := learnerAK.CoreV1().PersistentVolumeClaims(sNS).Create(ctx, &corev1.PersistentVolumeClaim{
				ObjectMeta: metav1.ObjectMeta{Name: "data"},
				Spec: corev1.PersistentVolumeClaimSpec{
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					StorageClassName: &class,
					Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("claim as the learner: %v", err)
			}
			volume(corev1.VolumeBound)
		}
		first := volume(corev1.VolumeAvailable)
		if first.Labels[labenv.LabNamespaceLabel] != sNS {
			t.Errorf("init's volume is labelled %v", first.Labels)
		}
		// The learner may read the volume but not change it: start leaves
		// it to the instructor.
		if err := labenv.StartLab(ctx, learnerA.Dynamic, storage, sNS); err != nil {
			t.Fatalf("lab start as the learner: %v", err)
		}
		claim()
		// The learner's reset deletes the claim; the volume is released,
		// and only the instructor may make it anew: the reset says so.
		err := workshop.ResetLab(ctx, learnerA.Dynamic, storage, sNS)
		if err == nil || !strings.Contains(err.Error(), "ask the instructor to run 'k8slab workshop init' again") {
			t.Fatalf("reset with a released volume: %v", err)
		}
		if _, err := workshop.Init(ctx, admin, plan, workshop.InitOptions{OutDir: out, Force: true}); err != nil {
			t.Fatal(err)
		}
		if again := volume(corev1.VolumeAvailable); again.UID == first.UID {
			t.Error("init kept the released volume")
		}
		// The re-init revoked the old token: the new kubeconfig works.
		learnerAK = typed(t, clientsFor(t, aPath))
		claim()
	})

	t.Run("delete removes exactly what init made", func(t *testing.T) {
		// Something unrelated that must survive.
		if _, err := adminK.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ws-bystander"}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := workshop.Delete(ctx, admin, "ws"); err != nil {
			t.Fatal(err)
		}
		if err := workshop.WaitDeleted(ctx, admin, "ws", 2*time.Minute); err != nil {
			t.Fatal(err)
		}
		if left := countLabelled(t, admin, "ws"); left != "ns=0 cr=0 crb=0 role=0 rb=0" {
			t.Errorf("labelled objects left: %s", left)
		}
		// The volumes labs' setups made go once their claims have.
		sel := metav1.ListOptions{LabelSelector: labenv.LabNamespaceLabel}
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(250 * time.Millisecond) {
			pvs, err := adminK.CoreV1().PersistentVolumes().List(ctx, sel)
			if err != nil {
				t.Fatal(err)
			}
			if len(pvs.Items) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%d volumes made for the workshop's namespaces are left, such as %s", len(pvs.Items), pvs.Items[0].Name)
				break
			}
		}
		if _, err := adminK.CoreV1().Namespaces().Get(ctx, "ws-bystander", metav1.GetOptions{}); err != nil {
			t.Errorf("delete touched a namespace it did not make: %v", err)
		}
		if _, err := adminK.RbacV1().ClusterRoles().Get(ctx, "cluster-admin", metav1.GetOptions{}); err != nil {
			t.Errorf("cluster-admin: %v", err)
		}
	})
}

// countLabelled fingerprints the objects labelled with the workshop.
func countLabelled(t *testing.T, c workshop.Clients, name string) string {
	t.Helper()
	ctx := context.Background()
	sel := metav1.ListOptions{LabelSelector: workshop.WorkshopLabel + "=" + name}
	k := typed(t, c)
	ns, err := k.CoreV1().Namespaces().List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	live := 0
	for _, n := range ns.Items {
		if n.DeletionTimestamp == nil {
			live++
		}
	}
	cr, _ := k.RbacV1().ClusterRoles().List(ctx, sel)
	crb, _ := k.RbacV1().ClusterRoleBindings().List(ctx, sel)
	roles, _ := k.RbacV1().Roles("").List(ctx, sel)
	rbs, _ := k.RbacV1().RoleBindings("").List(ctx, sel)
	out := fmt.Sprintf("ns=%d cr=%d crb=%d role=%d rb=%d", live, len(cr.Items), len(crb.Items), len(roles.Items), len(rbs.Items))
	if live == 0 {
		return out
	}
	// Resource versions show whether a re-run rewrote anything.
	for _, r := range roles.Items {
		out += " " + r.Namespace + "/" + r.Name + "@" + r.ResourceVersion
	}
	for _, r := range rbs.Items {
		out += " " + r.Namespace + "/" + r.Name + "@" + r.ResourceVersion
	}
	return out
}

func readMarker(t *testing.T, path string) *workshop.Marker {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return workshop.ReadMarker(cfg, "")
}

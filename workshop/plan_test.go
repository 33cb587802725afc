package workshop

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/checks"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/labfile"
)

func TestLearnerIDsKeepNamesAsTheClassGrows(t *testing.T) {
	small, big := LearnerIDs(99), LearnerIDs(120)
	for i := range small {
		if small[i] != big[i] {
			t.Errorf("learner %d is %s in a class of 9 but %s in a class of 12", i+1, small[i], big[i])
		}
	}
	if got := LearnerIDs(500)[499]; got != "learner-500" {
		t.Errorf("got %s", got)
	}
}

func TestReadRoster(t *testing.T) {
	ids, err := ReadRoster(strings.NewReader("# class of 2026\nAda Lovelace\n\n  Grace Hopper \n"), "roster.txt")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "ada-lovelace,grace-hopper" {
		t.Errorf("got %v", ids)
	}
	_, err = ReadRoster(strings.NewReader("Ada Lovelace\nada lovelace\n"), "roster.txt")
	if err == nil || !strings.Contains(err.Error(), "roster.txt:2") || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("duplicate: %v", err)
	}
	_, err = ReadRoster(strings.NewReader("Ada\n!!!\n"), "roster.txt")
	if err == nil || !strings.Contains(err.Error(), "roster.txt:2") {
		t.Errorf("no letters: %v", err)
	}
	if _, err = ReadRoster(strings.NewReader("# nobody\n"), "roster.txt"); err == nil {
		t.Error("an empty roster was accepted")
	}
}

func builtinLabs(t *testing.T) []*labfile.Lab {
	t.Helper()
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	return c.AllLabs()
}

func TestValidateRefusesLongNamespaces(t *testing.T) {
	labs := builtinLabs(t)
	p := Plan{Name: "ws", Learners: []string{"ada"}, Labs: labs}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.Learners = []string{strings.Repeat("a", 50)}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "63") {
		t.Errorf("long names: %v", err)
	}
	p.Name = "Bad_Name"
	if err := p.Validate(); err == nil {
		t.Error("a bad workshop name was accepted")
	}
}

// A learner's lab namespace may not be another learner's home: "Sam" and
// "Sam Pods" would share ws-sam-pods, and sam could act in sam-pods' home.
func TestValidateRefusesLearnersWhoseNamespacesCollide(t *testing.T) {
	labs := builtinLabs(t)
	ids, err := ReadRoster(strings.NewReader("Sam\nSam Pods\n"), "roster.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, order := range [][]string{ids, {ids[1], ids[0]}} {
		err := Plan{Name: "ws", Learners: order, Labs: labs}.Validate()
		if err == nil || !strings.Contains(err.Error(), "sam and sam-pods") && !strings.Contains(err.Error(), "sam-pods and sam") ||
			!strings.Contains(err.Error(), "ws-sam-pods") || !strings.Contains(err.Error(), "rename one") {
			t.Errorf("roster %v: %v", order, err)
		}
	}
	if err := (Plan{Name: "ws", Learners: []string{"sam", "sam-pod"}, Labs: labs}).Validate(); err != nil {
		t.Errorf("names that do not collide: %v", err)
	}
}

func TestAnalyseBuiltinCourse(t *testing.T) {
	a := Analyse(builtinLabs(t))
	var clusterRead []string
	for _, r := range a.ClusterRead {
		clusterRead = append(clusterRead, r.Resource)
	}
	// The architecture and scheduling labs read nodes; nothing else is
	// read cluster-wide: not namespaces or volumes, whose names are the
	// class's.
	if !slices.Equal(clusterRead, []string{"nodes"}) {
		t.Errorf("cluster reads: %v", a.ClusterRead)
	}
	// The storage and capstone labs' setups provide PersistentVolumes,
	// which each learner may get by name, their own only.
	if len(a.SetupClusterObjects) != 1 || a.SetupClusterObjects[0].Resource != "persistentvolumes" {
		t.Errorf("setup's cluster objects: %v", a.SetupClusterObjects)
	}
	rules := OwnClusterObjects("ws", "ada", builtinLabs(t))
	if len(rules) != 1 || !slices.Equal(rules[0].Verbs, []string{"get"}) || !slices.Equal(rules[0].ResourceNames, []string{"ws-ada-storage-data", "ws-ada-three-tier-db"}) {
		t.Errorf("own volumes: %+v", rules)
	}
	if len(a.NamespaceRead["kube-system"]) != 1 || a.NamespaceRead["kube-system"][0].Resource != "pods" {
		t.Errorf("kube-system reads: %v", a.NamespaceRead)
	}
	// Labelling or tainting a node changes a cluster-wide object, which a
	// learner may not: the architecture lab's label, and the scheduling
	// lab's tasks whose steps label nodes. Claiming a volume the setup
	// provided is the learner's to do. Reaching a NodePort from the
	// machine that runs the cluster is not a learner's either: they are
	// not on it.
	restricted := [][2]string{
		{"explore-cluster", "label-worker"}, {"scheduling", "ssd-node"},
		{"scheduling", "on-ssd"}, {"scheduling", "on-control-plane"},
		{"services", "reach-nodeport"},
	}
	if len(a.Restricted) != len(restricted) || a.IsRestricted("storage", "claim") {
		t.Errorf("restricted: %v", a.Restricted)
	}
	for _, r := range restricted {
		if !a.IsRestricted(r[0], r[1]) {
			t.Errorf("lab %s, task %s is not restricted; restricted: %v", r[0], r[1], a.Restricted)
		}
	}
	// Questions read nodes but change nothing: not restricted.
	if a.IsRestricted("explore-cluster", "count-nodes") {
		t.Error("a question about nodes is restricted")
	}
}

func sampleTable() Table {
	return Table{Workshop: "ws", Labs: []string{"pods", "explore-cluster"}, Rows: []Row{
		{Learner: "ada", Score: 3, MaxScore: 3, Cells: []Cell{
			{Lab: "pods", State: Passed, Score: 3, MaxScore: 3, Tasks: []checks.TaskResult{{ID: "web-pod", Title: "Run a web pod", Status: checks.Pass}}},
			{Lab: "explore-cluster", State: NotGraded},
		}},
		{Learner: "bob", Score: 0, MaxScore: 3, Cells: []Cell{
			{Lab: "pods", State: NotStarted, MaxScore: 3, Failing: "web-pod", Tasks: []checks.TaskResult{{ID: "web-pod", Title: "Run a web pod", Status: checks.Missing,
				Checks: []checks.CheckResult{{Name: "pod web", Status: checks.Missing, Messages: []string{"pod web not found"}}}}}},
			{Lab: "explore-cluster", State: NotGraded},
		}},
	}}
}

func TestExportCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := Export(&buf, sampleTable(), "csv"); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][3] != "pods score" || recs[2][0] != "bob" || recs[2][5] != NotStarted || recs[2][6] != "web-pod" {
		t.Errorf("got %q", recs)
	}
}

// Workshop JUnit names a test as 'k8slab check' does ("TASK-ID: Title"),
// written by the one JUnit writer in checks/report: a suite per learner
// and lab. Before, workshop had a writer of its own that named tests
// "lab/task-id".
func TestExportJUnit(t *testing.T) {
	var buf bytes.Buffer
	if err := Export(&buf, sampleTable(), "junit"); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name   string `xml:"name,attr"`
		Suites []struct {
			Name     string `xml:"name,attr"`
			Failures int    `xml:"failures,attr"`
			Skipped  int    `xml:"skipped,attr"`
			Cases    []struct {
				Name      string `xml:"name,attr"`
				ClassName string `xml:"classname,attr"`
				Failure   *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Suites) != 4 {
		t.Fatalf("%d suites, want one per learner and lab:\n%s", len(got.Suites), buf.String())
	}
	bob := got.Suites[2]
	if bob.Name != "bob/pods" || bob.Failures != 1 || len(bob.Cases) != 1 {
		t.Fatalf("bob's pods suite: %+v", bob)
	}
	if c := bob.Cases[0]; c.Name != "web-pod: Run a web pod" || c.ClassName != "bob.pods" || c.Failure == nil || !strings.Contains(c.Failure.Text, "pod web not found") {
		t.Errorf("bob's case: %+v", c)
	}
	if s := got.Suites[3]; s.Name != "bob/explore-cluster" || s.Skipped != 1 || s.Cases[0].Skipped == nil {
		t.Errorf("a lab not graded in a workshop is one skipped case: %+v", s)
	}
	if err := Export(&buf, sampleTable(), "xlsx"); err == nil {
		t.Error("an unknown format was accepted")
	}
}

// Which Pod Security level each lab's namespace enforces, and which lab's
// namespace has no CPU or memory caps (see PodSecurityLevel, resourceLab).
func TestFenceOfEachLab(t *testing.T) {
	for _, lab := range builtinLabs(t) {
		level := PodSecurityLevel(lab)
		wantLevel := PodSecurityBaseline
		if lab.ID == "explore-cluster" {
			wantLevel = PodSecurityRestricted
		}
		if level != wantLevel {
			t.Errorf("lab %s enforces %s, want %s", lab.ID, level, wantLevel)
		}
		lr := limitsFor(lab, "ns", nil)
		q := quotaFor(lab, "ns", nil, DefaultQuota)
		_, capsCPU := q.Spec.Hard["requests.cpu"]
		if lab.ID == "health" {
			// report asks 100 CPUs so that no node can take it, and web
			// must lack resources: no LimitRange, no CPU quota.
			if lr != nil || capsCPU || q.Spec.Hard.Pods().IsZero() {
				t.Errorf("health: LimitRange %v, quota %v", lr, q.Spec.Hard)
			}
			continue
		}
		if lr == nil || !capsCPU {
			t.Errorf("lab %s has no LimitRange or CPU quota", lab.ID)
		}
	}
	if PodSecurityLevel(nil) != PodSecurityRestricted {
		t.Error("a home namespace is not restricted")
	}
}

// Every learner's services namespace has a nodePort of its own, the same
// for the same plan, kept as the class grows; a class too big for the
// NodePort range is refused before anything is made.
func TestNodePortsPerLearner(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	labs := builtIn.AllLabs()
	var asking []string
	for _, l := range labs {
		if l.UsesNodePort() {
			asking = append(asking, l.ID)
		}
	}
	if !slices.Equal(asking, []string{"services"}) {
		t.Fatalf("labs asking for a nodePort of the learner's: %v, want services", asking)
	}
	small := Plan{Name: "ws", Learners: LearnerIDs(20), Labs: labs}.NodePorts()
	big := Plan{Name: "ws", Learners: LearnerIDs(500), Labs: labs}.NodePorts()
	if len(small) != 20 || len(big) != 500 {
		t.Fatalf("got %d and %d ports, want one per learner's services namespace", len(small), len(big))
	}
	used := map[int]string{}
	for ns, port := range big {
		if port < 30100 || port > 32767 {
			t.Errorf("%s: port %d outside 30100-32767", ns, port)
		}
		if other, ok := used[port]; ok {
			t.Errorf("%s and %s share port %d", ns, other, port)
		}
		used[port] = ns
	}
	for ns, port := range small {
		if big[ns] != port {
			t.Errorf("%s has port %d in a class of 20 but %d in a class of 500", ns, port, big[ns])
		}
	}
	if got := small[LabNamespace("ws", "learner-01", "services")]; got != 30100 {
		t.Errorf("learner-01's port = %d, want 30100", got)
	}
	err = Plan{Name: "ws", Learners: LearnerIDs(2700), Labs: labs}.Validate()
	if err == nil || !strings.Contains(err.Error(), "2700 learners need 2700 nodePorts") {
		t.Errorf("a class of 2700 is not refused for want of nodePorts: %v", err)
	}
}

// A second workshop on the same cluster gets ports the first does not
// hold (before, both handed out 30100 on: the second class's Services
// were refused with "provided port is already allocated"); a re-init
// keeps a workshop's own ports; a port something else took is given up;
// a range that runs out says who holds it.
func TestNodePortsAroundOthers(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	labs := builtIn.AllLabs()
	first := Plan{Name: "a", Learners: LearnerIDs(3), Labs: labs}.NodePorts()
	taken := map[int]string{}
	for _, port := range first {
		taken[port] = "workshop a"
	}
	taken[30104] = "Service default/shop"
	second, err := Plan{Name: "b", Learners: LearnerIDs(3), Labs: labs}.AllocateNodePorts(nil, taken)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"b-learner-01-services": 30103, "b-learner-02-services": 30105, "b-learner-03-services": 30106}
	if !maps.Equal(second, want) {
		t.Errorf("second workshop's ports = %v, want %v (around a's 30100-30102 and a Service's 30104)", second, want)
	}

	// Re-init of b with a fourth learner: the three keep their ports,
	// unless someone else took one meanwhile.
	taken[30105] = "Service default/other"
	again, err := Plan{Name: "b", Learners: LearnerIDs(4), Labs: labs}.AllocateNodePorts(second, taken)
	if err != nil {
		t.Fatal(err)
	}
	want = map[string]int{"b-learner-01-services": 30103, "b-learner-02-services": 30107, "b-learner-03-services": 30106, "b-learner-04-services": 30108}
	if !maps.Equal(again, want) {
		t.Errorf("re-init's ports = %v, want %v", again, want)
	}

	full := map[int]string{}
	for port := 30100; port <= 32767; port++ {
		full[port] = "workshop a"
	}
	delete(full, 32000)
	_, err = Plan{Name: "b", Learners: LearnerIDs(2), Labs: labs}.AllocateNodePorts(nil, full)
	if err == nil || !strings.Contains(err.Error(), "only 1 are free") || !strings.Contains(err.Error(), "held by workshop a") {
		t.Errorf("a full range is not refused, or the refusal does not say who holds it: %v", err)
	}
}

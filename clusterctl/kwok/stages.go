// Package kwok writes the stages that make kwok's fake kubelet behave like
// a real one where the course relies on it: a container whose image does
// not exist upstream fails to pull and backs off, and a probe aimed at a
// port the image does not listen on keeps the container not ready. Which
// images exist, and on which ports they listen, comes from the course's
// image catalogue.
package kwok

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/template"

	"github.com/k8slab/k8slab/images"
)

//go:embed stages.yaml.tmpl
var stagesTemplate string

// Delay is a stage's delay: a time chosen uniformly in [Min, Max)
// milliseconds.
type Delay struct{ Min, Max int }

// Profile is how long each step of the simulation takes.
type Profile struct {
	NodeInit, PodStart, PodComplete, PodDelete *Delay
	// PullFail is how long a pull of a missing image takes to fail,
	// PullBackoff how long ErrImagePull shows before ImagePullBackOff,
	// and PullRetry how long the kubelet backs off before it tries again.
	PullFail, PullBackoff, PullRetry *Delay
	// Liveness is how long a container whose liveness probe cannot pass
	// runs before the kubelet restarts it.
	Liveness *Delay
	// CrashSeen is how long a container that exited shows as terminated
	// before the kubelet reports CrashLoopBackOff (its next sync). The
	// back-off itself is the kubelet's, whatever the profile: 10 s after
	// the first restart, doubling up to 5 minutes.
	CrashSeen *Delay
}

// Instant starts pods at once, as kwok's built-in stages do; tests use it.
// A failed pull still shows ErrImagePull for a moment before
// ImagePullBackOff, and retries are spaced as on a real node, so the
// simulator never spins.
var Instant = Profile{
	PullBackoff: &Delay{300, 600},
	PullRetry:   &Delay{20000, 40000},
	Liveness:    &Delay{3000, 5000},
	CrashSeen:   &Delay{300, 600},
}

// Realistic takes about as long as a kind cluster with images cached, so a
// learner can watch a rollout happen.
var Realistic = Profile{
	NodeInit:    &Delay{1000, 2000},
	PodStart:    &Delay{1000, 2000},
	PodComplete: &Delay{3000, 6000},
	PodDelete:   &Delay{1000, 2000},
	PullFail:    &Delay{1000, 2500},
	PullBackoff: &Delay{2000, 5000},
	PullRetry:   &Delay{20000, 40000},
	// The defaults: a probe every 10 s, restart after 3 failures.
	Liveness:  &Delay{25000, 35000},
	CrashSeen: &Delay{500, 1500},
}

// Stages returns the complete stage set (node and pod stages: kwokctl
// replaces all of its built-in stages with any it is given) for a
// catalogue. A nil catalogue knows no image, so every pod fails to pull.
func Stages(cat *images.Catalog, p Profile) ([]byte, error) {
	refs := cat.Refs()
	g := &generator{
		Profile: p,
		jq:      jqPrograms(refs),
		known:   knownSnippet(refs) + behaveSnippet(refs),
	}
	g.PodStarts = []podStart{{Name: "pod-start", ProbeFails: false}, {Name: "pod-not-ready", ProbeFails: true}}
	g.PullFails = []pullFail{
		{Name: "pod-pull-failed", Delay: p.PullFail, Waiting: "none"},
		{Name: "pod-pull-retry", Delay: p.PullRetry, Waiting: "ImagePullBackOff"},
	}
	g.CrashRestarts = []crashRestart{
		{Name: "pod-crash-restart-now", State: "restart-now"},
		{Name: "pod-crash-restart", State: "backoff", Backoff: true},
	}
	g.StartStatus = g.expand(startStatus)
	g.ProbeEvent = g.expand(strings.ReplaceAll(probeEvent, "PROBEKINDS", `"readinessProbe" "startupProbe"`))
	g.LivenessEvent = g.expand(strings.ReplaceAll(probeEvent, "PROBEKINDS", `"livenessProbe"`))
	g.KillEvent = g.expand(killEvent)
	g.LivenessStatus = g.expand(livenessStatus)
	g.Backoff = g.expand(backoffStatus)
	g.CrashRestart = g.expand(strings.ReplaceAll(crashStatus, "MODE", "restart"))
	g.CrashBackoff = g.expand(strings.ReplaceAll(crashStatus, "MODE", "backoff"))
	g.CrashBackoffEvent = g.expand(crashEvent)
	t, err := template.New("stages").Delims("[[", "]]").Funcs(template.FuncMap{
		"jq": func(name string) (string, error) {
			prog, ok := g.jq[name]
			if !ok {
				return "", fmt.Errorf("no jq program %q", name)
			}
			return yamlString(prog), nil
		},
		"indent": func(n int, text string) string {
			pad := strings.Repeat(" ", n)
			lines := strings.Split(strings.Trim(text, "\n"), "\n")
			for i, l := range lines {
				if l != "" {
					lines[i] = pad + l
				}
			}
			return strings.Join(lines, "\n")
		},
	}).Parse(stagesTemplate)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, g); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type generator struct {
	Profile
	PodStarts   []podStart
	PullFails   []pullFail
	StartStatus string
	ProbeEvent  string
	Backoff     string

	LivenessStatus, LivenessEvent, KillEvent string

	CrashRestarts                                 []crashRestart
	CrashRestart, CrashBackoff, CrashBackoffEvent string

	jq    map[string]string
	known string
}

type podStart struct {
	Name       string
	ProbeFails bool
}

// crashRestart is a stage that runs a crashed container again: at once
// after its first exit, or after the kubelet's back-off.
type crashRestart struct {
	Name, State string
	Backoff     bool
}

type pullFail struct {
	Name    string
	Delay   *Delay
	Waiting string
}

// PullEvent is a kwok template for an Event about the pod's first container
// whose image is not in the catalogue; msg is a template expression that
// may use $img (the image as the kubelet names it) and $pullErr.
func (g *generator) PullEvent(typ, reason, msg string) string {
	s := strings.NewReplacer("TYPE", typ, "REASON", reason, "MESSAGE", msg).Replace(pullEvent)
	return g.expand(s)
}

func (g *generator) expand(s string) string {
	return strings.NewReplacer("KNOWN", g.known, "REF", refSnippet, "PROBES", probeSnippet, "CRASH", crashSnippet).Replace(s)
}

// yamlString quotes s as a JSON string, which YAML reads as a
// double-quoted scalar.
func yamlString(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(buf.String())
}

// jqPrograms are the selectors' queries. kwok runs them with gojq on the
// pod; each yields a boolean or a word that the stage compares with.
func jqPrograms(refs []images.Ref) map[string]string {
	known := map[string][]int{}
	for _, r := range refs {
		ports := r.Ports
		if ports == nil {
			ports = []int{}
		}
		known[r.Ref] = ports
	}
	knownJSON, _ := json.Marshal(known)
	served := map[string][]string{}
	for _, r := range refs {
		if len(r.Paths) > 0 {
			served[r.Ref] = r.Paths
		}
	}
	servedJSON, _ := json.Marshal(served)
	rootsJSON, _ := json.Marshal(roots(refs))
	behaveJSON, _ := json.Marshal(behaviours(refs))
	// norm is images.Normalize: Docker Hub prefixes go, no tag is latest.
	defs := `def norm: sub("^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/"; "")` +
		` | (if test("^library/[^/]+$") then .[8:] else . end)` +
		` | (if test("@|:[^/]*$") then . else . + ":latest" end);` +
		` def known: ` + string(knownJSON) + `;` +
		` def served: ` + string(servedJSON) + `;` +
		` def roots: ` + string(rootsJSON) + `;` +
		// Does a volume mounted at the image's root or under it change
		// what the server answers? Then its path is not judged.
		` def shadowed($c): (roots[$c.image | norm] // null) as $root | $root != null` +
		` and any(($c.volumeMounts // [])[]; (.mountPath | rtrimstr("/")) as $m | $m == $root or ($m | startswith($root + "/")));` +
		// The path a kubelet requests: no query, and / for none.
		` def pathOf: (. // "") | sub("[?#].*$"; "") | if . == "" then "/" else . end;` +
		` def portOf($c): if type == "string" then (. as $n | [($c.ports // [])[] | select(.name == $n) | .containerPort] | first) else . end; ` +
		` def behave: ` + string(behaveJSON) + `;` + crashJQ
	statuses := `((.status.containerStatuses // []) + (.status.initContainerStatuses // []))[]`
	return map[string]string{
		"unknownImage":    defs + `any((.spec.initContainers // [])[], (.spec.containers // [])[]; .image | norm as $r | known | has($r) | not)`,
		"failingProbe":    defs + failing(`$c.readinessProbe, $c.startupProbe`),
		"failingLiveness": defs + failing(`$c.livenessProbe`),
		"imageChanged":    defs + `. as $pod | any(($pod.spec.containers // [])[]; . as $c | any(($pod.status.containerStatuses // [])[]; .name == $c.name and .state.running != null and (.image | norm) != ($c.image | norm)))`,
		"crash":           defs + crashStateJQ,
		"crashBackoff":    crashBackoffJQ,
		"configHeld":      configHeldJQ,
		"needsStart":      `.status.phase == "Pending" or (.status.phase == "Running" and any(` + statuses + `; .state.waiting != null))`,
		"pullWaiting": `[` + statuses + ` | .state.waiting.reason // empty] as $w` +
			` | if any($w[]; . == "ErrImagePull") then "ErrImagePull" elif any($w[]; . == "ImagePullBackOff") then "ImagePullBackOff" else "none" end`,
	}
}

// configHeldJQ says whether a pod waits for the simulator's controller
// (clusterctl/internal/simkubelet), which alone can see ConfigMaps and
// Secrets: a container's environment names one without optional, and the
// controller has not yet let it start (no container status) or found what
// it names missing (CreateContainerConfigError). It must say what
// simkubelet's held says.
const configHeldJQ = `def ref: . != null and .optional != true;` +
	` any((.spec.containers // [])[]; any((.envFrom // [])[]; (.configMapRef | ref) or (.secretRef | ref))` +
	` or any((.env // [])[]; (.value // "") == "" and .valueFrom != null and ((.valueFrom.configMapKeyRef | ref) or (.valueFrom.secretKeyRef | ref))))` +
	` and (((.status.containerStatuses // []) | length) == 0 or any(.status.containerStatuses[]; .state.waiting.reason == "CreateContainerConfigError"))`

// failing is a jq query: does a container have one of the probes, aimed at
// a port its image does not listen on, or an HTTP probe of a path its
// image does not serve (404)? A named port the container does not declare
// fails too, as the kubelet cannot resolve it.
func failing(probes string) string {
	return `any((.spec.containers // [])[]; . as $c | (known[$c.image | norm] // []) as $open | served[$c.image | norm] as $paths` +
		` | any((` + probes + `) | select(. != null);` +
		` ((.httpGet.port // .tcpSocket.port // .grpc.port) as $p0 | $p0 != null and (($p0 | portOf($c)) as $p | any($open[]; . == $p) | not))` +
		` or (.httpGet != null and $paths != null and (shadowed($c) | not) and ((.httpGet.path | pathOf) as $x | any($paths[]; . == $x) | not))))`
}

// roots maps each web server's image:tag to the directory its paths are
// served from.
func roots(refs []images.Ref) map[string]string {
	out := map[string]string{}
	for _, r := range refs {
		if r.Root != "" && len(r.Paths) > 0 {
			out[r.Ref] = r.Root
		}
	}
	return out
}

// knownSnippet is a kwok template fragment that defines $known (image:tag
// to the ports, as text, it listens on), $served (image:tag to the HTTP
// paths it answers, for the web servers) and $repos (the repositories).
func knownSnippet(refs []images.Ref) string {
	var b strings.Builder
	b.WriteString(`{{ $known := dict`)
	repos := map[string]bool{}
	var repoList []string
	for _, r := range refs {
		b.WriteString(" " + strconv.Quote(r.Ref) + " (list")
		for _, p := range r.Ports {
			b.WriteString(" " + strconv.Quote(strconv.Itoa(p)))
		}
		b.WriteString(")")
		repo := r.Ref[:strings.LastIndex(r.Ref, ":")]
		if !repos[repo] {
			repos[repo] = true
			repoList = append(repoList, repo)
		}
	}
	b.WriteString(` }}{{ $served := dict`)
	for _, r := range refs {
		if len(r.Paths) == 0 {
			continue
		}
		b.WriteString(" " + strconv.Quote(r.Ref) + " (list")
		for _, p := range r.Paths {
			b.WriteString(" " + strconv.Quote(p))
		}
		b.WriteString(")")
	}
	b.WriteString(` }}{{ $roots := dict`)
	rootOf := roots(refs)
	for _, r := range refs {
		if root, ok := rootOf[r.Ref]; ok {
			b.WriteString(" " + strconv.Quote(r.Ref) + " " + strconv.Quote(root))
		}
	}
	b.WriteString(` }}{{ $repos := dict`)
	for _, r := range repoList {
		b.WriteString(" " + strconv.Quote(r) + " true")
	}
	b.WriteString(` }}`)
	return b.String()
}

// refSnippet, with a container as dot, sets $img (the image as the kubelet
// names it: with a tag), $full (as containerd names it), $isKnown and
// $pullErr (what the runtime would answer).
const refSnippet = `{{ $img := .image }}{{ if not (regexMatch "@|:[^/]*$" $img) }}{{ $img = printf "%s:latest" $img }}{{ end }}` +
	`{{ $ref := regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" $img "" }}` +
	`{{ $ref = regexReplaceAll "^library/([^/]+)$" $ref "${1}" }}` +
	`{{ $isKnown := hasKey $known $ref }}` +
	`{{ $repo := regexReplaceAll "(@.*|:[^/:]*)$" $ref "" }}` +
	`{{ $first := splitList "/" $img | first }}{{ $full := $img }}` +
	`{{ if not (and (contains "/" $img) (or (contains "." $first) (contains ":" $first) (eq $first "localhost"))) }}` +
	`{{ if contains "/" $img }}{{ $full = printf "docker.io/%s" $img }}{{ else }}{{ $full = printf "docker.io/library/%s" $img }}{{ end }}{{ end }}` +
	`{{ $pullErr := printf "rpc error: code = NotFound desc = failed to pull and unpack image %q: failed to resolve reference %q: %s: not found" $full $full $full }}` +
	`{{ if not (hasKey $repos $repo) }}{{ $pullErr = printf "rpc error: code = Unknown desc = failed to pull and unpack image %q: failed to resolve reference %q: pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed" $full $full }}{{ end }}`

// probeSnippet, with a known container as dot after refSnippet, looks at
// the probes named in $probeKinds and sets $ready (false when one fails)
// and $started (false when the startup probe fails), and describes the first failing probe in $probeKind,
// $probePort (a number as text, or "" when a named port is not declared),
// $probeName, $probeHTTP (the probe's httpGet, if any) and $probeStatus
// (the HTTP status of a path the image does not serve, "404", or "" when
// nothing answers). It must say what failing says.
const probeSnippet = `{{ $ready := true }}{{ $started := true }}{{ $probeKind := "" }}{{ $probePort := "" }}{{ $probeName := "" }}{{ $probeHTTP := dict }}{{ $probeStatus := "" }}` +
	`{{ $open := list }}{{ if $isKnown }}{{ $open = get $known $ref }}{{ end }}{{ $c := . }}` +
	`{{ $shadowed := false }}{{ with get $roots $ref }}{{ $root := . }}{{ range $c.volumeMounts }}{{ $m := trimSuffix "/" (toString .mountPath) }}` +
	`{{ if or (eq $m $root) (hasPrefix (printf "%s/" $root) $m) }}{{ $shadowed = true }}{{ end }}{{ end }}{{ end }}` +
	`{{ range $kind := $probeKinds }}{{ with get $c $kind }}{{ $probe := . }}` +
	`{{ $port := "" }}{{ with .httpGet }}{{ $port = toString .port }}{{ end }}{{ with .tcpSocket }}{{ $port = toString .port }}{{ end }}{{ with .grpc }}{{ $port = toString .port }}{{ end }}` +
	`{{ if $port }}{{ $name := "" }}` +
	`{{ if not (regexMatch "^[0-9]+$" $port) }}{{ $name = $port }}{{ $port = "" }}{{ range $c.ports }}{{ if eq (toString .name) $name }}{{ $port = toString .containerPort }}{{ end }}{{ end }}{{ end }}` +
	`{{ $status := "" }}{{ $fails := not (has $port $open) }}` +
	`{{ if and (not $fails) $probe.httpGet (hasKey $served $ref) (not $shadowed) }}{{ $path := regexReplaceAll "[?#].*$" (toString (default "" $probe.httpGet.path)) "" }}{{ if eq $path "" }}{{ $path = "/" }}{{ end }}` +
	`{{ if not (has $path (get $served $ref)) }}{{ $fails = true }}{{ $status = "404" }}{{ end }}{{ end }}` +
	`{{ if $fails }}{{ $ready = false }}{{ if eq $kind "startupProbe" }}{{ $started = false }}{{ end }}` +
	`{{ if not $probeKind }}{{ $probeKind = $kind }}{{ $probePort = $port }}{{ $probeName = $name }}{{ $probeStatus = $status }}{{ with $probe.httpGet }}{{ $probeHTTP = . }}{{ end }}{{ end }}` +
	`{{ end }}{{ end }}{{ end }}{{ end }}`

// startStatus is the status a kubelet reports once it has tried to start a
// pod's containers: those with a known image run (ready unless a probe
// fails; the image named in full, as the runtime reports it), the others
// wait with ErrImagePull; an init container that cannot start holds back
// everything after it. A container that ran with another image restarts
// (its restart count goes up). A container whose image's command cannot
// run (catalogue: exits, memory) has terminated. kwok's PodIPsWith hands out a new address on
// every call, so a pod that has one keeps it.
const startStatus = `{{ $now := Now }}
{{ $root := . }}
KNOWN
{{ $probeKinds := list "readinessProbe" "startupProbe" }}
{{ $blocked := false }}
{{ $waiting := false }}
{{ $incomplete := list }}
{{ $unready := list }}
initContainerStatuses:
{{ range .spec.initContainers }}
REF
- image: {{ .image | Quote }}
  name: {{ .name | Quote }}
  restartCount: 0
  {{ if $blocked }}
  ready: false
  started: false
  state:
    waiting:
      reason: PodInitializing
  {{ $incomplete = append $incomplete .name }}
  {{ else if not $isKnown }}
  ready: false
  started: false
  state:
    waiting:
      reason: ErrImagePull
      message: {{ $pullErr | Quote }}
  {{ $blocked = true }}
  {{ $waiting = true }}
  {{ $incomplete = append $incomplete .name }}
  {{ else if eq (toString .restartPolicy) "Always" }}
  ready: true
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
  {{ else }}
  ready: true
  started: false
  state:
    terminated:
      exitCode: 0
      finishedAt: {{ $now | Quote }}
      reason: Completed
      startedAt: {{ $now | Quote }}
  {{ end }}
{{ end }}
containerStatuses:
{{ range .spec.containers }}
REF
PROBES
CRASH
{{ $prev := dict }}{{ range $root.status.containerStatuses }}{{ if eq (toString .name) (toString $c.name) }}{{ $prev = . }}{{ end }}{{ end }}
{{ $restarts := int (default 0 $prev.restartCount) }}
{{ $wasRunning := and $prev.state $prev.state.running }}
{{ $prevRef := regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" (toString $prev.image) "" }}{{ $prevRef = regexReplaceAll "^library/([^/]+)$" $prevRef "${1}" }}{{ if not (regexMatch "@|:[^/]*$" $prevRef) }}{{ $prevRef = printf "%s:latest" $prevRef }}{{ end }}
{{ $restarted := and $wasRunning (ne $prevRef $ref) }}
- image: {{ if or $blocked (not $isKnown) }}{{ .image | Quote }}{{ else }}{{ $full | Quote }}{{ end }}
  name: {{ .name | Quote }}
  {{ if $restarted }}
  restartCount: {{ add1 $restarts }}
  lastState:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $prev.state.running.startedAt | Quote }}
      finishedAt: {{ $now | Quote }}
  {{ else }}
  restartCount: {{ $restarts }}
  {{ with $prev.lastState }}
  lastState: {{ toJson . }}
  {{ end }}
  {{ end }}
  {{ if or $blocked (not $isKnown) }}
  ready: false
  started: false
  state:
    waiting:
      {{ if $blocked }}
      reason: PodInitializing
      {{ else }}
      reason: ErrImagePull
      message: {{ $pullErr | Quote }}
      {{ end }}
  {{ $waiting = true }}
  {{ $unready = append $unready .name }}
  {{ else if $exitCode }}
  ready: false
  started: false
  state:
    terminated:
      exitCode: {{ $exitCode }}
      reason: {{ $exitReason | Quote }}
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
  {{ $unready = append $unready .name }}
  {{ else }}
  ready: {{ $ready }}
  started: {{ $started }}
  state:
    running:
      startedAt: {{ if and $wasRunning (not $restarted) }}{{ $prev.state.running.startedAt | Quote }}{{ else }}{{ $now | Quote }}{{ end }}
  {{ if not $ready }}{{ $unready = append $unready .name }}{{ end }}
  {{ end }}
{{ end }}
conditions:
- type: PodReadyToStartContainers
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ if $incomplete }}
- type: Initialized
  status: "False"
  reason: ContainersNotInitialized
  message: {{ printf "containers with incomplete status: %v" $incomplete | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ else }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
{{ if $unready }}
- type: ContainersReady
  status: "False"
  reason: ContainersNotReady
  message: {{ printf "containers with unready status: %v" $unready | Quote }}
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "False"
  reason: ContainersNotReady
  message: {{ printf "containers with unready status: %v" $unready | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ else }}
- type: ContainersReady
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ range .spec.readinessGates }}
- type: {{ .conditionType | Quote }}
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
{{ end }}
{{ end }}
{{ $hostIPs := NodeIPsWith .spec.nodeName }}
{{ with $hostIPs }}
hostIP: {{ index . 0 | Quote }}
hostIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ if not .status.podIP }}
{{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
{{ with $podIPs }}
podIP: {{ index . 0 | Quote }}
podIPs:
{{ range . }}
- ip: {{ . | Quote }}
{{ end }}
{{ end }}
{{ end }}
{{ if and $waiting (ne (toString .status.phase) "Running") }}
phase: Pending
{{ else }}
phase: Running
{{ end }}
startTime: {{ or .status.startTime $now | Quote }}
`

// backoffStatus, with a container status as dot, turns ErrImagePull into
// ImagePullBackOff with the kubelet's message, and keeps any other status.
const backoffStatus = `{{ if and .state.waiting (eq (toString .state.waiting.reason) "ErrImagePull") }}
{{ $img := .image }}{{ if not (regexMatch "@|:[^/]*$" $img) }}{{ $img = printf "%s:latest" $img }}{{ end }}
{{ $cs := deepCopy . }}{{ $_ := set $cs "state" (dict "waiting" (dict "reason" "ImagePullBackOff" "message" (printf "Back-off pulling image %q: ErrImagePull: %s" $img (toString .state.waiting.message)))) }}
- {{ toJson $cs }}
{{ else }}
- {{ toJson . }}
{{ end }}`

// eventHead is the start of an Event from the kubelet about the pod, named
// as the kubelet names them (pod name and a unique suffix).
const eventHead = `{{ $root := . }}
{{ $now := Now }}
apiVersion: v1
kind: Event
metadata:
  name: {{ printf "%s.%x" .metadata.name (now).UnixNano | Quote }}
  namespace: {{ .metadata.namespace | Quote }}
source:
  component: kubelet
  host: {{ .spec.nodeName | Quote }}
reportingComponent: kubelet
reportingInstance: {{ .spec.nodeName | Quote }}
firstTimestamp: {{ $now | Quote }}
lastTimestamp: {{ $now | Quote }}
count: 1
`

// kubeletEvent is an Event from the kubelet about a container of the pod:
// eventHead, then body, which sets $path (the container's field path) and
// $msg, then the pod as the involved object. typ and reason may be
// placeholders that a generator method fills in.
func kubeletEvent(body, typ, reason string) string {
	return eventHead + body + `involvedObject:
  apiVersion: v1
  kind: Pod
  name: {{ .metadata.name | Quote }}
  namespace: {{ .metadata.namespace | Quote }}
  uid: {{ .metadata.uid | Quote }}
  fieldPath: {{ $path | Quote }}
type: ` + typ + `
reason: ` + reason + `
message: {{ $msg | Quote }}
`
}

// pullEvent is an Event about the first container whose image cannot be
// pulled.
var pullEvent = kubeletEvent(`KNOWN
{{ $path := "" }}{{ $msg := "" }}
{{ range .spec.initContainers }}{{ if not $path }}REF{{ if not $isKnown }}{{ $path = printf "spec.initContainers{%s}" .name }}{{ $msg = MESSAGE }}{{ end }}{{ end }}{{ end }}
{{ range .spec.containers }}{{ if not $path }}REF{{ if not $isKnown }}{{ $path = printf "spec.containers{%s}" .name }}{{ $msg = MESSAGE }}{{ end }}{{ end }}{{ end }}
`, "TYPE", "REASON")

// probeEvent is the Unhealthy event for the first probe that fails, worded
// as the kubelet's prober words it. It is sent once the pod runs, so that
// its address is known.
var probeEvent = kubeletEvent(`KNOWN
{{ $probeKinds := list PROBEKINDS }}
{{ $path := "" }}{{ $msg := "" }}
{{ $ip := toString .status.podIP }}
{{ range .spec.containers }}{{ if not $path }}REF
PROBES
{{ if $probeKind }}{{ $path = printf "spec.containers{%s}" .name }}
{{ $kind := "Readiness" }}{{ if eq $probeKind "startupProbe" }}{{ $kind = "Startup" }}{{ else if eq $probeKind "livenessProbe" }}{{ $kind = "Liveness" }}{{ end }}
{{ if not $probePort }}{{ $msg = printf "%s probe errored and resulted in unknown state: port %q not found" $kind $probeName }}
{{ else }}{{ $addr := printf "%s:%s" $ip $probePort }}{{ $msg = printf "%s probe failed: dial tcp %s: connect: connection refused" $kind $addr }}
{{ if $probeHTTP }}{{ $msg = printf "%s probe failed: Get \"%s://%s%s\": dial tcp %s: connect: connection refused" $kind (lower (toString (default "HTTP" $probeHTTP.scheme))) $addr (toString (default "/" $probeHTTP.path)) $addr }}{{ end }}
{{ if $probeStatus }}{{ $msg = printf "%s probe failed: HTTP probe failed with statuscode: %s" $kind $probeStatus }}{{ end }}
{{ end }}{{ end }}{{ end }}{{ end }}
`, "Warning", "Unhealthy")

// containerEvent is an Event about one container: the first one (PICK
// "first") or the first whose image changed while it ran (PICK "changed").
// MESSAGE may use $img (as the kubelet names it) and $c (the container).
var containerEvent = kubeletEvent(`KNOWN
{{ $path := "" }}{{ $msg := "" }}
{{ range $i, $c := .spec.containers }}{{ if not $path }}REF
{{ $pick := eq "PICK" "first" }}
{{ if not $pick }}{{ range $root.status.containerStatuses }}{{ if and (eq (toString .name) (toString $c.name)) .state.running }}
{{ $prevRef := regexReplaceAll "^(docker\\.io|index\\.docker\\.io|registry-1\\.docker\\.io)/" (toString .image) "" }}{{ $prevRef = regexReplaceAll "^library/([^/]+)$" $prevRef "${1}" }}{{ if not (regexMatch "@|:[^/]*$" $prevRef) }}{{ $prevRef = printf "%s:latest" $prevRef }}{{ end }}
{{ if ne $prevRef $ref }}{{ $pick = true }}{{ end }}
{{ end }}{{ end }}{{ end }}
{{ if $pick }}{{ $path = printf "spec.containers{%s}" $c.name }}{{ $msg = MESSAGE }}{{ end }}
{{ end }}{{ end }}
`, "Normal", "REASON")

// ContainerEvent is a kwok template for a Normal event about a container
// (see containerEvent).
func (g *generator) ContainerEvent(pick, reason, msg string) string {
	return g.expand(strings.NewReplacer("PICK", pick, "REASON", reason, "MESSAGE", msg).Replace(containerEvent))
}

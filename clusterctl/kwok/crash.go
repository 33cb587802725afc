package kwok

// Liveness restarts and the crash loop: what the catalogue says an image
// does when it runs, and the templates and jq programs that act on it.

import (
	"encoding/json"
	"strconv"

	"github.com/k8slab/k8slab/images"
)

// killEvent is the kubelet's Killing event for the first container whose
// liveness probe fails.
var killEvent = kubeletEvent(`KNOWN
{{ $probeKinds := list "livenessProbe" }}
{{ $path := "" }}{{ $msg := "" }}
{{ range .spec.containers }}{{ if not $path }}REF
PROBES
{{ if $probeKind }}{{ $path = printf "spec.containers{%s}" .name }}{{ $msg = printf "Container %s failed liveness probe, will be restarted" .name }}{{ end }}{{ end }}{{ end }}
`, "Normal", "Killing")

// livenessStatus restarts every running container whose liveness probe
// aims at a port its image does not listen on, as the kubelet does after
// the probe has failed failureThreshold times.
const livenessStatus = `{{ $now := Now }}
{{ $root := . }}
KNOWN
{{ $probeKinds := list "livenessProbe" }}
containerStatuses:
{{ range .spec.containers }}
REF
PROBES
{{ $prev := dict }}{{ range $root.status.containerStatuses }}{{ if eq (toString .name) (toString $c.name) }}{{ $prev = . }}{{ end }}{{ end }}
{{ if and (not $ready) $prev.state $prev.state.running }}
{{ $cs := deepCopy $prev }}
{{ $_ := set $cs "restartCount" (add1 (int (default 0 $prev.restartCount))) }}
{{ $_ := set $cs "lastState" (dict "terminated" (dict "exitCode" 0 "reason" "Completed" "startedAt" $prev.state.running.startedAt "finishedAt" $now)) }}
{{ $_ := set $cs "state" (dict "running" (dict "startedAt" $now)) }}
- {{ toJson $cs }}
{{ else if $prev }}
- {{ toJson $prev }}
{{ end }}
{{ end }}
`

// behaviour is what the catalogue declares an image does when it runs,
// as kwok's templates and jq programs read it.
type behaviour struct {
	Code  int      `json:"code,omitempty"`
	Log   string   `json:"log,omitempty"`
	Env   []string `json:"env"`
	Files []string `json:"files"`
	MiB   int      `json:"mib,omitempty"`
	Arg   string   `json:"arg,omitempty"`
}

// behaviours maps each image:tag that fails or uses memory to what it does.
func behaviours(refs []images.Ref) map[string]behaviour {
	out := map[string]behaviour{}
	for _, r := range refs {
		if r.Exits == nil && r.Memory == nil {
			continue
		}
		b := behaviour{Env: []string{}, Files: []string{}}
		if e := r.Exits; e != nil {
			b.Code, b.Log = e.Code, e.Log
			b.Env = append(b.Env, e.UnlessEnv...)
			b.Files = append(b.Files, e.UnlessFile...)
		}
		if m := r.Memory; m != nil {
			b.MiB, b.Arg = m.MiB, m.FromArg
		}
		out[r.Ref] = b
	}
	return out
}

// behaveSnippet is a kwok template fragment that defines $behave, the
// same map as the jq programs' behave.
func behaveSnippet(refs []images.Ref) string {
	data, _ := json.Marshal(behaviours(refs))
	return `{{ $behave := fromJson ` + strconv.Quote(string(data)) + ` }}`
}

// crashJQ defines crashOf($c): how the container $c ends ({code, reason})
// or null when it runs. A missing setting stops it before it allocates
// anything, so that comes first; otherwise it is OOM-killed when it uses
// more memory than its limit, with the exit code 137 (SIGKILL) and the
// reason containerd reports.
const crashJQ = ` def qbytes: tostring | capture("^(?<n>[0-9.]+)(?<u>[a-zA-Z]*)$") as $q` +
	` | ($q.n | tonumber) * ({"": 1, "k": 1000, "M": 1000000, "G": 1000000000, "T": 1000000000000,` +
	` "Ki": 1024, "Mi": 1048576, "Gi": 1073741824, "Ti": 1099511627776, "m": 0.001}[$q.u] // 1);` +
	` def stressbytes: capture("^(?<n>[0-9]+)(?<u>[bBkKmMgG]?)$") as $q` +
	` | ($q.n | tonumber) * ({"": 1, "b": 1, "k": 1024, "m": 1048576, "g": 1073741824}[$q.u | ascii_downcase]);` +
	` def memUse($c; $b): if ($b.mib // 0) > 0 then $b.mib * 1048576` +
	` elif ($b.arg // "") != "" then ((($c.command // []) + ($c.args // [])) as $a` +
	` | [range(0; ($a | length) - 1) as $i | select($a[$i] == $b.arg) | $a[$i + 1]] | first // null` +
	` | if . == null then null else (try stressbytes catch null) end)` +
	` else null end;` +
	` def crashOf($c): ($c.image | norm) as $r | (behave[$r] // null) as $b` +
	` | if $b == null then null else` +
	` (if ($b.code // 0) > 0` +
	` and (any(($c.env // [])[]; . as $e | any($b.env[]; . == $e.name) and ((($e.value // "") != "") or $e.valueFrom != null)) | not)` +
	` and (any(($c.volumeMounts // [])[]; (.mountPath | rtrimstr("/")) as $m | any($b.files[]; . == $m or startswith($m + "/"))) | not)` +
	` then {code: $b.code, reason: "Error"}` +
	` else (memUse($c; $b) as $use | ($c.resources.limits.memory // null) as $lim` +
	` | if $use != null and $lim != null and $use > ($lim | qbytes) then {code: 137, reason: "OOMKilled"} else null end) end) end;`

// crashStateJQ says where a pod whose containers crash is in the
// kubelet's restart loop: "none" (nothing crashes), "start" (not started
// yet), "restart-now" (exited for the first time: the kubelet restarts it
// at once), "exited" (exited again: back-off comes next), "backoff"
// (waiting in CrashLoopBackOff) or "running".
const crashStateJQ = `. as $pod | [($pod.spec.containers // [])[] | . as $c | select(crashOf($c) != null) | $c.name] as $names` +
	` | if ($names | length) == 0 then "none" else` +
	` [($pod.status.containerStatuses // [])[] | . as $s | select(any($names[]; . == $s.name))] as $st` +
	` | if any($st[]; .state.waiting.reason == "CrashLoopBackOff") then "backoff"` +
	` elif any($st[]; .state.terminated != null and (.restartCount // 0) == 0) then "restart-now"` +
	` elif any($st[]; .state.terminated != null) then "exited"` +
	` elif ($st | length) == 0 or any($st[]; .state.waiting != null) then "start"` +
	` else "running" end end`

// crashBackoffJQ is how long the kubelet backs off before it restarts a
// container in CrashLoopBackOff: 10 s after the first restart, doubled
// after each one, at most 300 s (kubelet.go: initialCrashLoopBackOff,
// MaxContainerBackOff).
const crashBackoffJQ = `[(.status.containerStatuses // [])[] | select(.state.waiting.reason == "CrashLoopBackOff") | (.restartCount // 1)] | min // 1` +
	` | [10 * pow(2; . - 1), 300] | min | floor | tostring + "s"`

// crashSnippet, with a known container as dot after REF, sets $exitCode
// (0 when it runs) and $exitReason, as crashOf does in jq.
const crashSnippet = `{{ $exitCode := 0 }}{{ $exitReason := "" }}{{ $cc := . }}` +
	`{{ with get $behave $ref }}{{ $b := . }}` +
	`{{ if gt (int (default 0 $b.code)) 0 }}{{ $ok := false }}` +
	`{{ range $cc.env }}{{ if and (has (toString .name) $b.env) (or (ne (toString (default "" .value)) "") .valueFrom) }}{{ $ok = true }}{{ end }}{{ end }}` +
	`{{ range $cc.volumeMounts }}{{ $m := trimSuffix "/" (toString .mountPath) }}{{ range $b.files }}{{ if or (eq . $m) (hasPrefix (printf "%s/" $m) .) }}{{ $ok = true }}{{ end }}{{ end }}{{ end }}` +
	`{{ if not $ok }}{{ $exitCode = int $b.code }}{{ $exitReason = "Error" }}{{ end }}{{ end }}` +
	`{{ if not $exitCode }}{{ $use := 0.0 }}` +
	`{{ if gt (int (default 0 $b.mib)) 0 }}{{ $use = mulf $b.mib 1048576 }}` +
	`{{ else if $b.arg }}{{ $a := concat (default list $cc.command) (default list $cc.args) }}{{ $size := "" }}` +
	`{{ range $i, $x := $a }}{{ if and (eq (toString $x) $b.arg) (lt (add1 $i) (len $a)) (not $size) }}{{ $size = toString (index $a (add1 $i)) }}{{ end }}{{ end }}` +
	`{{ if regexMatch "^[0-9]+[bBkKmMgG]?$" $size }}{{ $n := float64 (regexFind "^[0-9]+" $size) }}{{ $u := lower (regexReplaceAll "^[0-9]+" $size "") }}` +
	`{{ $use = mulf $n (get (dict "" 1 "b" 1 "k" 1024 "m" 1048576 "g" 1073741824) $u) }}{{ end }}{{ end }}` +
	`{{ $lim := "" }}{{ with $cc.resources }}{{ with .limits }}{{ $lim = toString (default "" .memory) }}{{ end }}{{ end }}` +
	`{{ if and (gt $use 0.0) (regexMatch "^[0-9.]+[a-zA-Z]*$" $lim) }}` +
	`{{ $limBytes := mulf (float64 (regexFind "^[0-9.]+" $lim)) (get (dict "" 1 "k" 1000 "M" 1000000 "G" 1000000000 "T" 1000000000000 "Ki" 1024 "Mi" 1048576 "Gi" 1073741824 "Ti" 1099511627776 "m" 0.001) (regexReplaceAll "^[0-9.]+" $lim "")) }}` +
	`{{ if gt $use $limBytes }}{{ $exitCode = 137 }}{{ $exitReason = "OOMKilled" }}{{ end }}{{ end }}` +
	`{{ end }}{{ end }}`

// crashStatus, for every container that crashes, either restarts it (MODE
// "restart": its restart count goes up and the new run ends as the last
// did) or puts it into CrashLoopBackOff with the kubelet's message (MODE
// "backoff"); other containers keep their status.
const crashStatus = `{{ $now := Now }}
{{ $root := . }}
{{ $pod := printf "%s_%s(%s)" .metadata.name .metadata.namespace .metadata.uid }}
KNOWN
containerStatuses:
{{ range .spec.containers }}
REF
CRASH
{{ $prev := dict }}{{ range $root.status.containerStatuses }}{{ if eq (toString .name) (toString $cc.name) }}{{ $prev = . }}{{ end }}{{ end }}
{{ if and $exitCode $prev.state }}
{{ $cs := deepCopy $prev }}
{{ if eq "MODE" "restart" }}
{{ if $prev.state.terminated }}{{ $_ := set $cs "lastState" (dict "terminated" $prev.state.terminated) }}{{ end }}
{{ $_ := set $cs "restartCount" (add1 (int (default 0 $prev.restartCount))) }}
{{ $_ := set $cs "state" (dict "terminated" (dict "exitCode" $exitCode "reason" $exitReason "startedAt" $now "finishedAt" $now)) }}
{{ else if $prev.state.terminated }}
{{ $n := int (default 1 $prev.restartCount) }}{{ $secs := 10 }}{{ range $i, $_ := until (sub $n 1 | int) }}{{ $secs = mul $secs 2 }}{{ end }}{{ if gt $secs 300 }}{{ $secs = 300 }}{{ end }}
{{ $_ := set $cs "lastState" (dict "terminated" $prev.state.terminated) }}
{{ $back := printf "%ds" $secs }}{{ if ge $secs 60 }}{{ $back = printf "%dm%ds" (div $secs 60) (mod $secs 60) }}{{ end }}
{{ $_ := set $cs "state" (dict "waiting" (dict "reason" "CrashLoopBackOff" "message" (printf "back-off %s restarting failed container=%s pod=%s" $back $cc.name $pod))) }}
{{ end }}
- {{ toJson $cs }}
{{ else if $prev }}
- {{ toJson $prev }}
{{ end }}
{{ end }}
`

// crashEvent is the kubelet's BackOff event for the first container that
// crashed (kuberuntime_manager.go, doBackOff).
var crashEvent = kubeletEvent(`KNOWN
{{ $path := "" }}{{ $msg := "" }}
{{ $pod := printf "%s_%s(%s)" .metadata.name .metadata.namespace .metadata.uid }}
{{ range .spec.containers }}{{ if not $path }}REF
CRASH
{{ if $exitCode }}{{ $path = printf "spec.containers{%s}" .name }}{{ $msg = printf "Back-off restarting failed container %s in pod %s" .name $pod }}{{ end }}{{ end }}{{ end }}
`, "Warning", "BackOff")

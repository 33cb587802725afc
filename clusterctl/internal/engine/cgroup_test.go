package engine

import (
	"context"
	"testing"
)

func TestCgroupV1(t *testing.T) {
	for _, tc := range []struct {
		name, line, info string
		want             bool
	}{
		// Trimmed from `podman info --format json` on this machine (hybrid cgroups).
		{"podman v1", podmanInfo, `{"host":{"arch":"amd64","cgroupManager":"cgroupfs","cgroupVersion":"v1"}}`, true},
		{"podman v2", podmanInfo, `{"host":{"cgroupManager":"systemd","cgroupVersion":"v2"}}`, false},
		{"docker v1", dockerInfo, `{"CgroupDriver":"cgroupfs","CgroupVersion":"1"}`, true},
		{"docker v2", dockerInfo, `{"CgroupDriver":"systemd","CgroupVersion":"2"}`, false},
		{"docker too old to say", dockerInfo, `{"CgroupDriver":"cgroupfs"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replayEngines(t, map[string]cliResult{tc.line: {out: tc.info}})
			name := Docker
			if tc.line == podmanInfo {
				name = Podman
			}
			e, _ := SpecFor(name)
			got, err := CgroupV1(context.Background(), e)
			if err != nil || got != tc.want {
				t.Fatalf("CgroupV1 = %v, %v; want %v, nil", got, err, tc.want)
			}
		})
	}
	replayEngines(t, map[string]cliResult{podmanInfo: {out: "not json"}})
	e, _ := SpecFor(Podman)
	if _, err := CgroupV1(context.Background(), e); err == nil {
		t.Fatal("CgroupV1 of output that is not JSON: no error")
	}
}

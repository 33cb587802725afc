package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkPackageInit runs the release binary with GODEBUG=inittrace=1
// (as 'k8slab version', the smallest command: every command pays this) and
// reports the median total time and allocation (bytes and count: the
// figures that do not depend on the machine) of package initialisation,
// and logs the packages that cost most, by median, with what they allocate.
func BenchmarkPackageInit(b *testing.B) {
	bin := releaseBinary(b)
	perPkg, perPkgBytes := map[string][]float64{}, map[string]float64{}
	var totals, allocs, counts []float64
	for b.Loop() {
		cmd := exec.Command(bin, "version")
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("version: %v\n%s", err, stderr.String())
		}
		total, bytesAlloc, count := 0.0, 0.0, 0.0
		sc := bufio.NewScanner(&stderr)
		for sc.Scan() {
			// init PKG @0.5 ms, 0.012 ms clock, 1234 bytes, 5 allocs
			f := strings.Fields(sc.Text())
			if len(f) < 9 || f[0] != "init" {
				continue
			}
			ms, err1 := strconv.ParseFloat(f[4], 64)
			by, err2 := strconv.ParseFloat(f[7], 64)
			n, err3 := strconv.ParseFloat(f[9], 64)
			if err1 != nil || err2 != nil || err3 != nil {
				continue
			}
			perPkg[f[1]] = append(perPkg[f[1]], ms)
			perPkgBytes[f[1]] = by
			total += ms
			bytesAlloc += by
			count += n
		}
		totals = append(totals, total)
		allocs = append(allocs, bytesAlloc)
		counts = append(counts, count)
	}
	b.ReportMetric(medianOf(totals), "ms-init")
	b.ReportMetric(medianOf(allocs)/(1<<20), "MB-init-alloc")
	b.ReportMetric(medianOf(counts), "init-allocs")
	type cost struct {
		pkg string
		ms  float64
	}
	var costs []cost
	for p, v := range perPkg {
		costs = append(costs, cost{p, medianOf(v)})
	}
	slices.SortFunc(costs, func(a, b cost) int {
		switch {
		case a.ms > b.ms:
			return -1
		case a.ms < b.ms:
			return 1
		}
		return strings.Compare(a.pkg, b.pkg)
	})
	var top strings.Builder
	for _, c := range costs[:min(12, len(costs))] {
		fmt.Fprintf(&top, "\n  %6.2f ms %8.0f kB  %s", c.ms, perPkgBytes[c.pkg]/1024, c.pkg)
	}
	b.Logf("package init, median per package (%d packages with an init):%s", len(costs), top.String())
}

func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

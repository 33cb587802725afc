package lessons_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"

	"github.com/k8slab/k8slab/lessons"
)

const inlineCodeMD = "# Rolling out\n\nSet the image `shop/api:2.4`, then run `kubectl rollout status`.\n\n```\nkubectl get pods\n```\n"

// Without colours the chip around inline code is gone, so its padding would
// read as stray spaces: the NoColor style marks code with backticks instead.
func TestNoColorInlineCodeReadsNaturally(t *testing.T) {
	out, err := lessons.NewRenderer().Render(inlineCodeMD, lessons.NoColor, 80)
	if err != nil {
		t.Fatal(err)
	}
	plain := ansi.Strip(out)
	for _, want := range []string{"Set the image `shop/api:2.4`, then run `kubectl rollout status`.", "kubectl get pods"} {
		if !strings.Contains(plain, want) {
			t.Errorf("NoColor output lacks %q:\n%s", want, plain)
		}
	}
	if strings.Contains(plain, "\u00a0") {
		t.Errorf("NoColor output keeps the chip's non-breaking spaces:\n%q", plain)
	}
	if !strings.Contains(plain, "\n  Rolling out") && !strings.Contains(plain, "\n  # Rolling out") {
		t.Errorf("heading not at the text margin without padding:\n%q", plain)
	}

	golden := filepath.Join("testdata", "nocolor.golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(golden, []byte(plain), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (UPDATE_GOLDEN=1 writes it)", err)
	}
	if plain != string(want) {
		t.Errorf("NoColor rendering changed:\n got %q\nwant %q", plain, want)
	}
}

// Colour mode keeps the chip glamour drew: inline code padded with non-breaking
// spaces on a background colour.
func TestColourInlineCodeKeepsChip(t *testing.T) {
	for _, style := range []lessons.Style{lessons.Dark, lessons.Light} {
		out, err := lessons.NewRenderer().Render(inlineCodeMD, style, 80)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ansi.Strip(out), "image \u00a0shop/api:2.4\u00a0,") {
			t.Errorf("%s: inline code chip changed:\n%q", style, ansi.Strip(out))
		}
		if !strings.Contains(out, "\x1b[") || strings.Contains(ansi.Strip(out), "`shop") {
			t.Errorf("%s: colour output must style code, not mark it with backticks", style)
		}
	}
}

// A table cell never splits a word: a table too wide even at its longest
// words is drawn as one record per row, every word whole (issue 22 saw
// "LoadBalan│cer").
func TestTableNeverSplitsAWord(t *testing.T) {
	const md = "| Tier | Service | Why |\n|---|---|---|\n" +
		"| frontend | NodePort (or LoadBalancer, or behind an Ingress) | must be reachable from outside |\n" +
		"| backend | ClusterIP | only the frontend calls it |\n"
	for _, width := range []int{80, 40, 30, 24} {
		out, err := lessons.NewRenderer().Render(md, lessons.NoColor, width)
		if err != nil {
			t.Fatal(err)
		}
		plain := ansi.Strip(out)
		words := map[string]bool{}
		for _, w := range strings.FieldsFunc(plain, func(r rune) bool { return strings.ContainsRune(" │─┼·:\n", r) }) {
			words[w] = true
		}
		for _, w := range strings.Fields("Tier Service Why frontend NodePort (or LoadBalancer, behind an Ingress) must be reachable from outside backend ClusterIP only the calls it") {
			if !words[w] {
				t.Errorf("at %d columns the word %q is not whole:\n%s", width, w, plain)
			}
		}
		for i, l := range strings.Split(plain, "\n") {
			if ansi.StringWidth(l) > width {
				t.Errorf("at %d columns line %d is %d wide: %q", width, i, ansi.StringWidth(l), l)
			}
		}
	}
}

package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpLines is implemented by screens with more short-help keys than fit
// on one line at 80 columns; each inner slice is a group of keys that
// stays on one line.
type helpLines interface {
	ShortHelpLines() [][]key.Binding
}

// legend is implemented by screens whose marks need explaining; the full
// help (?) shows it under the keys.
type legend interface {
	Legend() []string
}

// helpView draws the help bar. A screen's groups of keys are packed onto
// as few lines as the window allows, so a wide window shows them on one;
// the full help packs its groups the same way, so that at 80 columns no
// key is cut off (bubbles' columns drop those that do not fit).
func (a *App) helpView() string {
	var groups [][]key.Binding
	switch hl, ok := a.active.(helpLines); {
	case a.help.ShowAll:
		groups = a.active.FullHelp()
	case ok:
		groups = hl.ShortHelpLines()
	default:
		return a.help.View(a.active)
	}
	lines := a.packed.pack(a.help, a.width, groups)
	if l, ok := a.active.(legend); ok && a.help.ShowAll {
		// Entries are packed whole, so a mark never sits apart from what
		// it means.
		line := ""
		for _, e := range l.Legend() {
			if line != "" && lipgloss.Width(line+" · "+e) >= a.width-1 {
				lines = append(lines, a.c.styles.Muted.Render(line))
				line = ""
			}
			if line != "" {
				line += " · "
			}
			line += e
		}
		lines = append(lines, a.c.styles.Muted.Render(line))
	}
	return strings.Join(lines, "\n")
}

// packHelp packs groups of keys onto as few lines as width allows, each
// group whole where it fits. A group wider than the window (a question
// task's "a answer" makes the lab's first one so at 80 columns) continues
// on the next line, key by key, rather than being cut with "…". Every
// screen's help bar, the exam's too, is packed here.
func packHelp(h help.Model, width int, groups [][]key.Binding) []string {
	fitsLine := func(line string) bool {
		return !strings.HasSuffix(strings.TrimSpace(ansi.Strip(line)), "…") && lipgloss.Width(line) < width-1
	}
	fits := quickFits(h, width, fitsLine)
	var lines []string
	var cur []key.Binding
	for _, group := range groups {
		group = enabled(group)
		if len(group) == 0 {
			continue
		}
		if len(cur) > 0 && !fits(append(slices.Clip(cur), group...)) {
			lines = append(lines, h.ShortHelpView(cur))
			cur = nil
		}
		if len(cur) == 0 && !fits(group) {
			for _, b := range group {
				if len(cur) > 0 && !fits(append(slices.Clip(cur), b)) {
					lines = append(lines, h.ShortHelpView(cur))
					cur = nil
				}
				cur = append(cur, b)
			}
			continue
		}
		cur = append(cur, group...)
	}
	if len(cur) > 0 {
		lines = append(lines, h.ShortHelpView(cur))
	}
	return lines
}

// enabled drops the disabled bindings, which the help bar does not show:
// a group of only those takes no line.
func enabled(bs []key.Binding) []key.Binding {
	var out []key.Binding
	for _, b := range bs {
		if b.Enabled() {
			out = append(out, b)
		}
	}
	return out
}

// quickFits is fitsLine of h.ShortHelpView(bs) without rendering the line
// each time a key is added to it, which made packing every frame's help
// bar quadratic (19 M instructions of the first frame): a line's width is
// its keys' widths, each measured once, and a separator between each two.
// Where that sum says the line is whole and fits (no "…" cut, nothing
// shown that ends in one), it does; otherwise the line is rendered and
// measured as before. TestQuickFitsIsFitsLine holds the two together.
func quickFits(h help.Model, width int, fitsLine func(string) bool) func([]key.Binding) bool {
	sep := lipgloss.Width(h.Styles.ShortSeparator.Inline(true).Render(h.ShortSeparator))
	widths := map[key.Help]int{}
	itemWidth := func(b key.Binding) int {
		k := b.Help()
		w, ok := widths[k]
		if !ok {
			w = lipgloss.Width(h.Styles.ShortKey.Inline(true).Render(k.Key) + " " + h.Styles.ShortDesc.Inline(true).Render(k.Desc))
			widths[k] = w
		}
		return w
	}
	return func(bs []key.Binding) bool {
		total := 0
		for i, b := range bs {
			if i > 0 {
				total += sep
			}
			total += itemWidth(b)
		}
		last := bs[len(bs)-1].Help()
		if total < width-1 && (h.Width() == 0 || total <= h.Width()) && !strings.Contains(last.Key+last.Desc, "…") {
			return true
		}
		return fitsLine(h.ShortHelpView(bs))
	}
}

// packedHelp remembers the last help bar packed, which is the next frame's
// too until the window, the keys or the help's styles change: the TUI
// draws some twenty frames before its home screen settles, and packing
// the bar on each was 20 M instructions. Whoever changes the help's
// styles resets it.
type packedHelp struct {
	key   string
	lines []string
}

func (p *packedHelp) pack(h help.Model, width int, groups [][]key.Binding) []string {
	var k strings.Builder
	fmt.Fprintf(&k, "%d %d %t", width, h.Width(), h.ShowAll)
	for _, g := range groups {
		k.WriteByte('\x1e')
		for _, b := range g {
			if b.Enabled() {
				k.WriteString("\x1f" + b.Help().Key + "\x1f" + b.Help().Desc)
			}
		}
	}
	if k.String() != p.key || p.lines == nil {
		p.key, p.lines = k.String(), packHelp(h, width, groups)
	}
	return p.lines
}

package tui

import (
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
	lines := packHelp(a.help, a.width, groups)
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
	fits := func(line string) bool {
		return !strings.HasSuffix(strings.TrimSpace(ansi.Strip(line)), "…") && lipgloss.Width(line) < width-1
	}
	var lines []string
	var cur []key.Binding
	for _, group := range groups {
		group = enabled(group)
		if len(group) == 0 {
			continue
		}
		if len(cur) > 0 && !fits(h.ShortHelpView(append(slices.Clip(cur), group...))) {
			lines = append(lines, h.ShortHelpView(cur))
			cur = nil
		}
		if len(cur) == 0 && !fits(h.ShortHelpView(group)) {
			for _, b := range group {
				if len(cur) > 0 && !fits(h.ShortHelpView(append(slices.Clip(cur), b))) {
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

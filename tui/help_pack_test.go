package tui

import (
	"strings"
	"testing"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// TestQuickFitsIsFitsLine: packing by summed widths says a line fits
// exactly when rendering it and measuring does, whatever the window's and
// the help model's widths, for keys wide and narrow, styled and not, and
// some that end in "…".
func TestQuickFitsIsFitsLine(t *testing.T) {
	var bs []key.Binding
	for i, kd := range [][2]string{{"↑/k", "up"}, {"enter", "open the lesson"}, {"q", "quit"}, {"?", "more"},
		{"a", "answer"}, {"ctrl+c", "quit at once"}, {"g", "glossary…"}, {"t", "终端"}, {"x", ""}, {"tab", "next pane"}} {
		bs = append(bs, key.NewBinding(key.WithKeys(kd[0]+string(rune('0'+i))), key.WithHelp(kd[0], kd[1])))
	}
	plain := help.New()
	styled := help.New()
	styled.Styles.ShortKey = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#ff0000"))
	styled.Styles.ShortSeparator = lipgloss.NewStyle().Faint(true)
	for _, h := range []help.Model{plain, styled} {
		for _, hw := range []int{0, 20, 47, 80} {
			h.SetWidth(hw)
			// The line does not depend on the window: render each once.
			lines := map[[2]int]string{}
			for i := range bs {
				for j := i + 1; j <= len(bs); j++ {
					lines[[2]int{i, j}] = h.ShortHelpView(bs[i:j])
				}
			}
			for width := 1; width <= 130; width++ {
				fitsLine := func(line string) bool {
					return !strings.HasSuffix(strings.TrimSpace(ansi.Strip(line)), "…") && lipgloss.Width(line) < width-1
				}
				fits := quickFits(h, width, fitsLine)
				for ij, line := range lines {
					if got, want := fits(bs[ij[0]:ij[1]]), fitsLine(line); got != want {
						t.Fatalf("help width %d, window %d, keys %d..%d: quickFits %v, rendered %v", hw, width, ij[0], ij[1], got, want)
					}
				}
			}
		}
	}
}

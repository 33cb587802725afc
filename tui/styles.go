package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/lipgloss/v2"

	"github.com/k8slab/k8slab/lessons"
)

// Styles holds every style the TUI uses, built once for the terminal's
// background and colour support.
type Styles struct {
	Header      lipgloss.Style
	HeaderTitle lipgloss.Style
	Muted       lipgloss.Style
	Accent      lipgloss.Style
	Bold        lipgloss.Style

	ModuleTitle lipgloss.Style
	Selected    lipgloss.Style
	Done        lipgloss.Style
	Next        lipgloss.Style

	BarFull  lipgloss.Style
	BarEmpty lipgloss.Style

	Prompt      lipgloss.Style
	Option      lipgloss.Style
	OptionFocus lipgloss.Style
	Correct     lipgloss.Style
	Wrong       lipgloss.Style
	Explanation lipgloss.Style

	Status lipgloss.Style
	Error  lipgloss.Style
	Help   help.Styles

	// Markdown is the lesson theme that matches; with NO_COLOR it is the
	// theme made for no colours, and Bubble Tea's colour profile drops its
	// colours and keeps bold and italics.
	Markdown lessons.Style
}

// NewStyles builds the styles for a dark or light background; with noColor
// (NO_COLOR set) it uses only bold, faint and reverse so that every state is
// still visible.
func NewStyles(isDark, noColor bool) *Styles {
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color {
		if noColor {
			return lipgloss.NoColor{}
		}
		return ld(lipgloss.Color(light), lipgloss.Color(dark))
	}
	accent := c("#1A5FB4", "#62A0EA")
	green := c("#26A269", "#8FF0A4")
	red := c("#C01C28", "#F66151")
	yellow := c("#9C6500", "#F9E076")
	muted := c("#6B6B6B", "#9A9A9A")
	faint := c("#C0C0C0", "#4A4A4A")

	s := &Styles{
		Header:      lipgloss.NewStyle().Padding(0, 1),
		HeaderTitle: lipgloss.NewStyle().Bold(true).Foreground(accent),
		Muted:       lipgloss.NewStyle().Foreground(muted),
		Accent:      lipgloss.NewStyle().Foreground(accent),
		Bold:        lipgloss.NewStyle().Bold(true),
		ModuleTitle: lipgloss.NewStyle().Bold(true),
		Selected:    lipgloss.NewStyle().Bold(true).Foreground(accent),
		Done:        lipgloss.NewStyle().Foreground(green),
		Next:        lipgloss.NewStyle().Foreground(yellow).Bold(true),
		BarFull:     lipgloss.NewStyle().Foreground(accent),
		BarEmpty:    lipgloss.NewStyle().Foreground(faint),
		Prompt:      lipgloss.NewStyle().Bold(true),
		Option:      lipgloss.NewStyle(),
		OptionFocus: lipgloss.NewStyle().Bold(true).Foreground(accent),
		Correct:     lipgloss.NewStyle().Bold(true).Foreground(green),
		Wrong:       lipgloss.NewStyle().Bold(true).Foreground(red),
		Explanation: lipgloss.NewStyle().Foreground(muted),
		Status:      lipgloss.NewStyle().Foreground(muted).Padding(0, 1),
		Error:       lipgloss.NewStyle().Foreground(red).Padding(0, 1),
		Help:        help.DefaultStyles(isDark),
		Markdown:    lessons.Dark,
	}
	if !isDark {
		s.Markdown = lessons.Light
	}
	if noColor {
		s.Markdown = lessons.NoColor
		s.Selected = s.Selected.Reverse(true)
		s.OptionFocus = s.OptionFocus.Reverse(true)
		s.Muted = s.Muted.Faint(true)
		s.Explanation = s.Explanation.Faint(true)
		s.Help = help.Styles{}
	}
	return s
}

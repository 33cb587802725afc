package tui

import (
	"charm.land/bubbles/v2/help"
	tea "charm.land/bubbletea/v2"
)

// component is one part of a page, as in soft-serve's pkg/ui/common: it
// updates itself, draws itself in the size it is given, and names its
// keys, from which the help bar is made.
type component interface {
	help.KeyMap
	Update(tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
}

// The lab page's parts.
var (
	_ component = (*taskList)(nil)
	_ component = (*goalPane)(nil)
	_ component = (*mapPane)(nil)
	_ component = (*labAnswer)(nil)
	_ component = (*timelinePane)(nil)
)

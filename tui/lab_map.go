package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"

	"github.com/k8slab/k8slab/clusterview"
)

// mapPane draws the live cluster map of the lab namespace, in place of the
// goal while it is shown. It is drawn once per change of view or size;
// View only shows the result.
type mapPane struct {
	c        *common
	width    int
	view     *clusterview.View
	viewport viewport.Model
}

func newMapPane(c *common) *mapPane {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	m := &mapPane{c: c, viewport: vp}
	m.redraw()
	return m
}

func (m *mapPane) SetSize(w, h int) {
	resized := m.width != w
	m.width = w
	m.viewport.SetWidth(w)
	m.viewport.SetHeight(max(1, h))
	if resized {
		m.redraw()
	}
}

// show sets the view to draw; nil while the cluster is being read.
func (m *mapPane) show(v *clusterview.View) {
	m.view = v
	m.redraw()
}

func (m *mapPane) redraw() {
	if m.view == nil {
		m.viewport.SetContent(m.c.styles.Muted.Render(" Reading the cluster…"))
		return
	}
	m.viewport.SetContent(renderClusterMap(*m.view, m.c.styles, m.width))
}

func (m *mapPane) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		scrollPage(&m.viewport, m.c.keys, k)
	}
	return nil
}

func (m *mapPane) ShortHelp() []key.Binding  { return []key.Binding{m.c.keys.Map, m.c.keys.PageDown} }
func (m *mapPane) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }
func (m *mapPane) View() string              { return m.viewport.View() }

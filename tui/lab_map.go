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
	*scrollPane
	view *clusterview.View
}

func newMapPane(c *common) *mapPane {
	m := &mapPane{}
	m.scrollPane = newScrollPane(c, m.render)
	m.redraw()
	return m
}

// show sets the view to draw; nil while the cluster is being read.
func (m *mapPane) show(v *clusterview.View) {
	m.view = v
	m.redraw()
}

func (m *mapPane) render(width int) string {
	if m.view == nil {
		return m.c.styles.Muted.Render(" Reading the cluster…")
	}
	return renderClusterMap(*m.view, m.c.styles, width)
}

func (m *mapPane) ShortHelp() []key.Binding  { return []key.Binding{m.c.keys.Map, m.c.keys.PageDown} }
func (m *mapPane) FullHelp() [][]key.Binding { return [][]key.Binding{m.ShortHelp()} }

// scrollPane is a pane of the lab screen that draws its content into a
// viewport (page keys scroll it) and draws it again when its width
// changes: the map and the timeline.
type scrollPane struct {
	c        *common
	width    int
	viewport viewport.Model
	content  func(width int) string
}

func newScrollPane(c *common, content func(width int) string) *scrollPane {
	vp := viewport.New()
	vp.KeyMap = viewport.KeyMap{}
	return &scrollPane{c: c, viewport: vp, content: content}
}

func (p *scrollPane) SetSize(w, h int) {
	resized := p.width != w
	p.width = w
	p.viewport.SetWidth(w)
	p.viewport.SetHeight(max(1, h))
	if resized {
		p.redraw()
	}
}

func (p *scrollPane) redraw() { p.viewport.SetContent(p.content(p.width)) }

func (p *scrollPane) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		scrollPage(&p.viewport, p.c.keys, k)
	}
	return nil
}

func (p *scrollPane) View() string { return p.viewport.View() }

package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// answerBox is a one-line text field that owns the keyboard while focused:
// the line editing of bubbles' textinput (Backspace, Delete, ←/→, Home/End,
// Ctrl-U, Ctrl-W, bracketed paste), plus a "selected" state for a previous
// answer, so that typing replaces it the way an edit field in any form does
// instead of appending to text the learner may not have noticed.
type answerBox struct {
	input textinput.Model
	// selected is set while the whole previous answer is selected; the
	// first edit replaces it, a cursor movement keeps it.
	selected bool
	style    lipgloss.Style
}

func newAnswerBox(prompt, placeholder string, limit int) answerBox {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	return answerBox{input: ti, style: lipgloss.NewStyle().Reverse(true)}
}

// Edit focuses the box on value, selected so that typing replaces it.
func (b *answerBox) Edit(value string) tea.Cmd {
	b.input.SetValue(value)
	b.input.CursorEnd()
	b.selected = value != ""
	return b.input.Focus()
}

// Blur ends editing; the value stays.
func (b *answerBox) Blur() {
	b.input.Blur()
	b.selected = false
}

func (b *answerBox) Reset() {
	b.input.Reset()
	b.selected = false
}

func (b *answerBox) Value() string     { return b.input.Value() }
func (b *answerBox) SetWidth(w int)    { b.input.SetWidth(w) }
func (b *answerBox) Focus() tea.Cmd    { b.selected = false; return b.input.Focus() }
func (b *answerBox) Focused() bool     { return b.input.Focused() }
func (b *answerBox) SetValue(v string) { b.input.SetValue(v) }

// Update edits the text. Key presses that type text and pastes replace a
// selected answer; Backspace and Delete clear it; anything else (arrows,
// Home, End) just drops the selection.
func (b *answerBox) Update(msg tea.Msg) tea.Cmd {
	if b.selected {
		switch m := msg.(type) {
		case tea.PasteMsg:
			b.input.SetValue("")
			b.selected = false
		case tea.KeyPressMsg:
			b.selected = false
			switch {
			case m.Text != "" && m.Mod&^tea.ModShift == 0:
				b.input.SetValue("")
			case m.Code == tea.KeyBackspace || m.Code == tea.KeyDelete:
				b.input.SetValue("")
				return nil
			}
		}
	}
	var cmd tea.Cmd
	b.input, cmd = b.input.Update(msg)
	return cmd
}

func (b *answerBox) View() string {
	if b.selected {
		return b.input.Prompt + b.style.Render(b.input.Value())
	}
	return b.input.View()
}

// answerSubmittedMsg carries an answer the learner entered.
type answerSubmittedMsg struct{ text string }

// labAnswer is the lab page's answer field for a question task: it owns
// the keyboard while open, and hands the answer to the page on enter.
type labAnswer struct {
	keys *KeyMap
	box  answerBox
	open bool
}

func newLabAnswer(keys *KeyMap) *labAnswer {
	return &labAnswer{keys: keys, box: newAnswerBox("answer › ", "", 100)}
}

// edit opens the field on the current answer.
func (a *labAnswer) edit(value string) tea.Cmd {
	a.open = true
	return a.box.Edit(value)
}

func (a *labAnswer) close() {
	a.open = false
	a.box.Blur()
}

func (a *labAnswer) SetSize(w, _ int) { a.box.SetWidth(max(10, min(w, 80)-12)) }

func (a *labAnswer) Update(msg tea.Msg) tea.Cmd {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(k, a.keys.Submit):
			a.close()
			return navigate(answerSubmittedMsg{strings.TrimSpace(a.box.Value())})
		case key.Matches(k, a.keys.Cancel):
			a.close()
			return nil
		}
	}
	return a.box.Update(msg)
}

func (a *labAnswer) ShortHelp() []key.Binding {
	return []key.Binding{a.keys.Submit, a.keys.Cancel, a.keys.ForceQuit}
}
func (a *labAnswer) FullHelp() [][]key.Binding { return [][]key.Binding{a.ShortHelp()} }
func (a *labAnswer) View() string              { return a.box.View() }

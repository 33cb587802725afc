package tui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the TUI. Screens pick the ones they use for
// their help, so the help bar cannot drift from what keys do.
type KeyMap struct {
	Up       key.Binding
	Down     key.Binding
	PageUp   key.Binding
	PageDown key.Binding
	Top      key.Binding
	Bottom   key.Binding

	Open key.Binding
	Back key.Binding
	// Cancel is Back while a text box has focus: only esc, since Backspace
	// belongs to the text.
	Cancel key.Binding
	Quit   key.Binding
	// ForceQuit works even while typing an answer.
	ForceQuit key.Binding
	Help      key.Binding

	NextLesson key.Binding
	PrevLesson key.Binding

	Toggle   key.Binding
	Submit   key.Binding
	Continue key.Binding
	Retake   key.Binding

	// ClusterUp creates the lab cluster; enabled only when there is none.
	ClusterUp key.Binding

	Hint     key.Binding
	Solution key.Binding
	Reset    key.Binding
	Shell    key.Binding
	Map      key.Binding
	Timeline key.Binding
	Answer   key.Binding
	Yes      key.Binding
	No       key.Binding

	// CheatSheet and Glossary open the course's reference over any screen
	// that is not taking typed text. K is free on every screen (k is up,
	// and the quiz's option letters stop at i); / is the usual key for
	// looking something up, and types nothing anywhere else.
	CheatSheet key.Binding
	Glossary   key.Binding
	// LessonTerms opens the glossary at the terms a lesson introduces. It
	// is T, not t: t opens the lab's shell, and one key means one thing.
	LessonTerms key.Binding
	// Close leaves the cheat sheet for the screen it covers.
	Close key.Binding

	// The glossary's search box takes letters, so its list moves with
	// keys that type nothing.
	ListUp       key.Binding
	ListDown     key.Binding
	ListPageUp   key.Binding
	ListPageDown key.Binding
	OpenTerm     key.Binding
	ClearSearch  key.Binding
	// AllTerms drops a lesson's scope once the search box is empty.
	AllTerms      key.Binding
	ToCheatSheet  key.Binding
	CloseGlossary key.Binding

	// Flag marks an exam task to come back to; Finish ends the exam
	// (after a confirmation) and shows the grades.
	Flag   key.Binding
	Finish key.Binding

	// Sort changes the order of the workshop's class table; Left and
	// Right scroll its lab columns.
	Sort  key.Binding
	Left  key.Binding
	Right key.Binding
}

// DefaultKeyMap returns the standard bindings.
func DefaultKeyMap() *KeyMap {
	return &KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "b"), key.WithHelp("pgup/b", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "space", "f"), key.WithHelp("pgdn/space", "page down")),
		Top:      key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "top")),
		Bottom:   key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "bottom")),

		Open:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:      key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Cancel:    key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "leave")),
		Quit:      key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "more keys")),

		NextLesson: key.NewBinding(key.WithKeys("n", "right"), key.WithHelp("n/→", "next lesson")),
		PrevLesson: key.NewBinding(key.WithKeys("p", "left"), key.WithHelp("p/←", "previous lesson")),

		Toggle:   key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "select")),
		Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "answer")),
		Continue: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "continue")),
		Retake:   key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retake")),

		ClusterUp: key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "create cluster")),

		Hint:     key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "hint")),
		Solution: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "solution")),
		Reset:    key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "reset lab")),
		Shell:    key.NewBinding(key.WithKeys("!", "t"), key.WithHelp("t", "shell")),
		Map:      key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "map")),
		Timeline: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "what happened")),
		Answer:   key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "answer")),
		Yes:      key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:       key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),

		CheatSheet:  key.NewBinding(key.WithKeys("K"), key.WithHelp("K", "kubectl cheat sheet")),
		Glossary:    key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "glossary")),
		LessonTerms: key.NewBinding(key.WithKeys("T"), key.WithHelp("T", "terms")),
		Close:       key.NewBinding(key.WithKeys("esc", "backspace", "q"), key.WithHelp("esc/q", "back")),

		ListUp:        key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up")),
		ListDown:      key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down")),
		ListPageUp:    key.NewBinding(key.WithKeys("pgup"), key.WithHelp("pgup", "page up")),
		ListPageDown:  key.NewBinding(key.WithKeys("pgdown"), key.WithHelp("pgdn", "page down")),
		OpenTerm:      key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open its lesson")),
		ClearSearch:   key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear search")),
		AllTerms:      key.NewBinding(key.WithKeys("backspace"), key.WithHelp("⌫", "all terms")),
		ToCheatSheet:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "cheat sheet")),
		CloseGlossary: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),

		Flag:   key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "flag: come back later")),
		Finish: key.NewBinding(key.WithKeys("F"), key.WithHelp("F", "finish exam")),

		Sort:  key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Left:  key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "more labs")),
		Right: key.NewBinding(key.WithKeys("right"), key.WithHelp("→", "more labs")),
	}
}

package lessons

import (
	"strconv"
	"strings"
	"sync"

	"github.com/charmbracelet/x/ansi"
)

// Style picks a Markdown theme to suit the terminal.
type Style string

const (
	// Dark suits terminals with a dark background.
	Dark Style = "dark"
	// Light suits terminals with a light background.
	Light Style = "light"
	// NoColor is for output without colours (NO_COLOR) or without any escape
	// codes (a pipe, once the caller strips them): bold and italics only,
	// with inline code between backticks.
	NoColor Style = "k8slab-nocolor"
)

// theme is the look of one Style. The colours are those glamour's dark and
// light themes used, so lessons look as they did.
type theme struct {
	text, heading, h1, code, codeBlock, rule, link, muted ansi.Style
	// codeMark surrounds inline code: a non-breaking space, drawn as a
	// coloured chip, or a backtick where there is no colour.
	codeMark string
	// Highlighting of code blocks.
	keyword, key, comment, added, removed ansi.Style
}

func fg(c uint8) ansi.Style { return ansi.Style{}.ForegroundColor(ansi.IndexedColor(c)) }

func themeFor(s Style) theme {
	switch s {
	case NoColor:
		return theme{heading: ansi.Style{}.Bold(), h1: ansi.Style{}.Bold(), codeMark: "`"}
	case Light:
		return theme{
			text: fg(234), heading: fg(27).Bold(), h1: fg(228).BackgroundColor(ansi.IndexedColor(63)).Bold(),
			code: fg(203).BackgroundColor(ansi.IndexedColor(254)), codeBlock: fg(242), rule: fg(249),
			link: fg(36).Underline(true), muted: fg(246), codeMark: "\u00a0",
			keyword: fg(26), key: fg(90), comment: fg(246), added: fg(28), removed: fg(160),
		}
	}
	return theme{
		text: fg(252), heading: fg(39).Bold(), h1: fg(228).BackgroundColor(ansi.IndexedColor(63)).Bold(),
		code: fg(203).BackgroundColor(ansi.IndexedColor(236)), codeBlock: fg(251), rule: fg(240),
		link: fg(30).Underline(true), muted: fg(243), codeMark: "\u00a0",
		keyword: fg(39), key: fg(141), comment: fg(243), added: fg(42), removed: fg(203),
	}
}

// Renderer turns lesson Markdown into terminal text, and keeps the text it
// rendered: going back to a lesson, or resizing to a width seen before, is
// then instant. Renderer is safe for concurrent use.
type Renderer struct {
	mu     sync.Mutex
	output map[outputKey]string
}

type outputKey struct {
	style    Style
	width    int
	markdown string
}

// maxOutputs bounds the rendered-text cache; a resize sweeps through many
// widths, and the cache starts over when it is full.
const maxOutputs = 256

// NewRenderer returns an empty renderer cache.
func NewRenderer() *Renderer {
	return &Renderer{output: map[outputKey]string{}}
}

// MinWidth is the narrowest text column lessons are wrapped to.
const MinWidth = 20

// margin is the blank columns left and right of the text.
const margin = 2

// Render renders markdown for a text column of width cells. Prose is
// wrapped at spaces only; inline code is never broken, and code blocks
// are shown line for line (see codeLines).
func (r *Renderer) Render(markdown string, style Style, width int) (string, error) {
	width = max(width, MinWidth)
	key := outputKey{style, width, markdown}
	r.mu.Lock()
	out, ok := r.output[key]
	r.mu.Unlock()
	if ok {
		return out, nil
	}
	rd := &render{th: themeFor(style)}
	var b strings.Builder
	b.WriteString("\n")
	rd.blocks(&b, parseBlocks(markdown), strings.Repeat(" ", margin), width-2*margin)
	b.WriteString("\n")
	out = b.String()
	r.mu.Lock()
	if len(r.output) >= maxOutputs {
		clear(r.output)
	}
	r.output[key] = out
	r.mu.Unlock()
	return out, nil
}

type render struct {
	th theme
}

// blocks writes bs, each line starting with indent, text wrapped to width
// cells, a blank line between blocks.
func (rd *render) blocks(b *strings.Builder, bs []block, indent string, width int) {
	width = max(width, 8)
	for i, bl := range bs {
		if i > 0 {
			b.WriteString("\n")
		}
		rd.block(b, bl, indent, width)
	}
}

func writeLines(b *strings.Builder, indent string, lines []string) {
	for _, l := range lines {
		if l == "" {
			b.WriteString("\n")
			continue
		}
		b.WriteString(indent + l + "\n")
	}
}

func (rd *render) block(b *strings.Builder, bl block, indent string, width int) {
	th := rd.th
	switch bl.kind {
	case blockPara:
		writeLines(b, indent, rd.wrap(parseInline(bl.text), width, th.text))
	case blockHeading:
		st := th.heading
		prefix := strings.Repeat("#", bl.level) + " "
		if bl.level == 1 {
			st, prefix = th.h1, ""
		}
		lines := rd.wrap(append([]span{{text: prefix}}, parseInline(bl.text)...), width, st)
		if bl.level == 1 && len(th.h1) > 0 && th.codeMark != "`" {
			for i, l := range lines {
				lines[i] = st.Styled(" ") + l + st.Styled(" ")
			}
		}
		writeLines(b, indent, lines)
	case blockRule:
		writeLines(b, indent, []string{th.rule.Styled("--------")})
	case blockCode:
		// Code may use the right margin: a command that fits whole beats one
		// that is marked as going on.
		writeLines(b, indent+"  ", rd.codeLines(bl.code, bl.lang, width-2+margin))
	case blockQuote:
		var inner strings.Builder
		rd.blocks(&inner, bl.inner, "", width-2)
		for _, l := range strings.Split(strings.TrimSuffix(inner.String(), "\n"), "\n") {
			b.WriteString(indent + th.muted.Styled("│") + " " + l + "\n")
		}
	case blockList:
		for n, item := range bl.items {
			marker := "• "
			if bl.ordered {
				marker = strconv.Itoa(bl.start+n) + ". "
			}
			hang := strings.Repeat(" ", ansi.StringWidth(marker))
			var inner strings.Builder
			rd.blocks(&inner, item, "", width-len(hang))
			text := strings.TrimSuffix(inner.String(), "\n")
			for k, l := range strings.Split(text, "\n") {
				switch {
				case k == 0:
					b.WriteString(indent + th.text.Styled(marker) + l + "\n")
				case l == "":
					b.WriteString("\n")
				default:
					b.WriteString(indent + hang + l + "\n")
				}
			}
		}
	case blockTable:
		writeLines(b, indent, rd.table(bl.rows, width))
	}
}

// atom is a run of text that is never broken across lines: a word with
// whatever punctuation or inline code touches it.
type atom struct {
	s string // styled
	w int    // cells
}

// atoms splits spans into unbreakable runs: text breaks at spaces, inline
// code nowhere, even at its own spaces and hyphens (issue 22).
func (rd *render) atoms(spans []span, base ansi.Style) [][]atom {
	th := rd.th
	lines := [][]atom{nil}
	var cur atom
	open := false
	end := func() {
		if open {
			lines[len(lines)-1] = append(lines[len(lines)-1], cur)
		}
		cur, open = atom{}, false
	}
	add := func(st ansi.Style, text string) {
		cur.s += st.Styled(text)
		cur.w += ansi.StringWidth(text)
		open = true
	}
	for _, sp := range spans {
		st := base
		switch {
		case sp.brk:
			end()
			lines = append(lines, nil)
			continue
		case sp.code:
			st = th.code
		case sp.link != "" && sp.link != "-":
			st = th.link
		}
		if sp.strong {
			st = st.Bold()
		}
		if sp.em {
			st = st.Italic(true)
		}
		if sp.code {
			add(st, th.codeMark+sp.text+th.codeMark)
			continue
		}
		for i, word := range strings.Split(sp.text, " ") {
			if i > 0 {
				end()
			}
			if word != "" {
				add(st, word)
			}
		}
	}
	end()
	return lines
}

// wrap fills lines of at most width cells with the spans' atoms. An atom
// wider than a line gets lines of its own, each but the last ending in a
// "↩" that says it goes on.
func (rd *render) wrap(spans []span, width int, base ansi.Style) []string {
	var out []string
	for _, atoms := range rd.atoms(spans, base) {
		line, w := "", 0
		for _, a := range atoms {
			switch {
			case w == 0:
			case w+1+a.w <= width:
				line += " "
				w++
			default:
				out = append(out, line)
				line, w = "", 0
			}
			if a.w > width {
				pieces := splitCells(a.s, width-1)
				for _, p := range pieces[:len(pieces)-1] {
					out = append(out, line+p+rd.th.muted.Styled("↩"))
					line = ""
				}
				last := pieces[len(pieces)-1]
				line, w = last, ansi.StringWidth(last)
				continue
			}
			line += a.s
			w += a.w
		}
		out = append(out, line)
	}
	return out
}

// splitCells cuts s, which may hold escape codes, into pieces of width
// cells.
func splitCells(s string, width int) []string {
	width = max(width, 1)
	var out []string
	for total := ansi.StringWidth(s); total > 0; total -= width {
		out = append(out, ansi.Cut(s, 0, width))
		s = ansi.Cut(s, width, total)
	}
	if len(out) == 0 {
		out = []string{""}
	}
	return out
}

// table draws rows (the first is the header) in columns separated by "│",
// as wide as their widest cell; when that is too wide for width, the
// widest columns narrow and their cells wrap at spaces.
func (rd *render) table(rows [][]string, width int) []string {
	th := rd.th
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	cells := make([][][]atom, len(rows))
	widths := make([]int, cols)
	minW := make([]int, cols)
	for i, r := range rows {
		cells[i] = make([][]atom, cols)
		for j := range cols {
			text := ""
			if j < len(r) {
				text = r[j]
			}
			base := th.text
			if i == 0 {
				base = base.Bold()
			}
			var as []atom
			for _, l := range rd.atoms(parseInline(text), base) {
				as = append(as, l...)
			}
			cells[i][j] = as
			w := 0
			for k, a := range as {
				if k > 0 {
					w++
				}
				w += a.w
				minW[j] = max(minW[j], a.w)
			}
			widths[j] = max(widths[j], w)
		}
	}
	// " cell │ cell │ cell": one space before, three between.
	total := func() int {
		t := 1 + 3*(cols-1)
		for _, w := range widths {
			t += w
		}
		return t
	}
	narrowest := 1 + 3*(cols-1)
	for _, w := range minW {
		narrowest += w
	}
	if narrowest > width {
		// Even with every column down to its longest word the table is
		// too wide: a word cut across lines ("LoadBalan" / "cer") misleads,
		// so each row is drawn as a record instead.
		return rd.records(cells, width)
	}
	for total() > width {
		widest := 0
		for j := range widths {
			if widths[j]-minW[j] > widths[widest]-minW[widest] {
				widest = j
			}
		}
		widths[widest]--
	}
	sep := th.rule.Styled(" │ ")
	var out []string
	for i := range rows {
		wrapped := make([][]string, cols)
		height := 1
		for j := range cols {
			wrapped[j] = rd.fill(cells[i][j], widths[j])
			height = max(height, len(wrapped[j]))
		}
		for k := range height {
			parts := make([]string, cols)
			for j := range cols {
				l := ""
				if k < len(wrapped[j]) {
					l = wrapped[j][k]
				}
				parts[j] = l + strings.Repeat(" ", max(0, widths[j]-ansi.StringWidth(l)))
			}
			out = append(out, strings.TrimRight(" "+strings.Join(parts, sep), " "))
		}
		if i == 0 {
			segs := make([]string, cols)
			for j, w := range widths {
				segs[j] = strings.Repeat("─", w+2)
			}
			out = append(out, th.rule.Styled(strings.Join(segs, "┼")))
		}
	}
	return out
}

// records draws a table too wide for width as one block per row: each
// cell on its own line after its column's heading, wrapped at spaces.
func (rd *render) records(cells [][][]atom, width int) []string {
	var out []string
	sep := rd.th.rule.Styled("·")
	for i := 1; i < len(cells); i++ {
		if i > 1 {
			out = append(out, "")
		}
		for j, cell := range cells[i] {
			var line []atom
			if j < len(cells[0]) && len(cells[0][j]) > 0 {
				line = append(line, cells[0][j]...)
				last := &line[len(line)-1]
				line[len(line)-1] = atom{s: last.s + ":", w: last.w + 1}
			}
			line = append(line, cell...)
			lead := " "
			if j == 0 {
				lead = sep
			}
			for k, l := range rd.fill(line, max(1, width-3)) {
				if k > 0 {
					lead = " "
				}
				out = append(out, strings.TrimRight(lead+" "+l, " "))
			}
		}
	}
	return out
}

// fill wraps atoms already split into words into lines of width cells.
func (rd *render) fill(atoms []atom, width int) []string {
	var out []string
	line, w := "", 0
	for _, a := range atoms {
		if w > 0 && w+1+a.w > width {
			out = append(out, line)
			line, w = "", 0
		}
		if w > 0 {
			line += " "
			w++
		}
		if a.w > width {
			pieces := splitCells(a.s, width)
			out = append(out, pieces[:len(pieces)-1]...)
			a.s = pieces[len(pieces)-1]
			a.w = ansi.StringWidth(a.s)
		}
		line += a.s
		w += a.w
	}
	return append(out, line)
}

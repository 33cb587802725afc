package lessons

import (
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// The course's Markdown is parsed here rather than by a general Markdown
// library: goldmark, glamour and chroma together allocated over 5 MB and
// compiled hundreds of regular expressions and lexers while the program
// started, before any lesson was shown (issue 25). This parser covers the
// CommonMark the course is written in: ATX and setext headings,
// paragraphs, bullet and ordered lists (nested, with continuation lines),
// fenced and indented code, GFM tables, block quotes, thematic breaks, and
// inline code, emphasis, strong, links and backslash escapes. Raw HTML is
// shown as written.

type blockKind int

const (
	blockPara blockKind = iota
	blockHeading
	blockCode
	blockList
	blockTable
	blockRule
	blockQuote
)

type block struct {
	kind  blockKind
	level int    // heading level
	text  string // paragraph and heading inline text
	lang  string // code block's info string (first word)
	code  string

	ordered bool
	start   int       // first number of an ordered list
	items   [][]block // list items
	rows    [][]string
	inner   []block // block quote content
}

// The patterns are compiled on first use, not while the program starts.
type mdPatterns struct {
	fenceOpen, heading, rule, setext, listItem, quote, tableDelim *regexp.Regexp
}

var patterns = sync.OnceValue(func() *mdPatterns {
	return &mdPatterns{
		fenceOpen:  regexp.MustCompile("^( {0,3})(`{3,}|~{3,})\\s*([^`]*)$"),
		heading:    regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`),
		rule:       regexp.MustCompile(`^ {0,3}(?:(?:-[ \t]*){3,}|(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$`),
		setext:     regexp.MustCompile(`^ {0,3}(=+|-+)[ \t]*$`),
		listItem:   regexp.MustCompile(`^( {0,3})([-*+]|\d{1,9}[.)])([ \t]+|$)`),
		quote:      regexp.MustCompile(`^ {0,3}> ?`),
		tableDelim: regexp.MustCompile(`^ {0,3}\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$`),
	}
})

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// indentOf counts leading columns, a tab as four.
func indentOf(s string) int {
	n := 0
	for _, r := range s {
		switch r {
		case ' ':
			n++
		case '\t':
			n += 4 - n%4
		default:
			return n
		}
	}
	return n
}

// dedent removes n columns of leading white space.
func dedent(s string, n int) string {
	col := 0
	for i, r := range s {
		if col >= n {
			return s[i:]
		}
		switch r {
		case ' ':
			col++
		case '\t':
			col += 4 - col%4
			if col > n {
				return strings.Repeat(" ", col-n) + s[i+1:]
			}
		default:
			return s[i:]
		}
	}
	return ""
}

func parseBlocks(md string) []block {
	md = strings.ReplaceAll(md, "\r\n", "\n")
	return parseLines(strings.Split(md, "\n"))
}

// startsBlock reports whether line begins a block that ends a paragraph.
func startsBlock(line string) bool {
	if patterns().fenceOpen.MatchString(line) || patterns().heading.MatchString(line) || patterns().rule.MatchString(line) || patterns().quote.MatchString(line) {
		return true
	}
	if m := patterns().listItem.FindStringSubmatch(line); m != nil && strings.TrimSpace(line[len(m[0]):]) != "" {
		// An ordered item interrupts a paragraph only when it starts at 1.
		if n, err := strconv.Atoi(strings.TrimRight(m[2], ".)")); err == nil && n != 1 {
			return false
		}
		return true
	}
	return false
}

func isTableStart(lines []string, i int) bool {
	return i+1 < len(lines) && strings.Contains(lines[i], "|") && patterns().tableDelim.MatchString(lines[i+1]) && strings.Contains(lines[i+1], "-")
}

func parseLines(lines []string) []block {
	var out []block
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case isBlank(line):
			i++
		case patterns().fenceOpen.MatchString(line):
			m := patterns().fenceOpen.FindStringSubmatch(line)
			indent, fence := len(m[1]), m[2]
			lang := strings.Fields(m[3] + " ")
			b := block{kind: blockCode}
			if len(lang) > 0 {
				b.lang = lang[0]
			}
			var code []string
			i++
			for ; i < len(lines); i++ {
				t := strings.TrimSpace(lines[i])
				if indentOf(lines[i]) < 4 && strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
					i++
					break
				}
				code = append(code, dedent(lines[i], indent))
			}
			b.code = strings.Join(code, "\n")
			out = append(out, b)
		case patterns().heading.MatchString(line):
			m := patterns().heading.FindStringSubmatch(line)
			out = append(out, block{kind: blockHeading, level: len(m[1]), text: strings.TrimSpace(m[2])})
			i++
		case patterns().rule.MatchString(line):
			out = append(out, block{kind: blockRule})
			i++
		case patterns().quote.MatchString(line):
			var inner []string
			for ; i < len(lines) && !isBlank(lines[i]); i++ {
				if loc := patterns().quote.FindStringIndex(lines[i]); loc != nil {
					inner = append(inner, lines[i][loc[1]:])
				} else if startsBlock(lines[i]) {
					break
				} else {
					inner = append(inner, lines[i]) // lazy continuation
				}
			}
			out = append(out, block{kind: blockQuote, inner: parseLines(inner)})
		case patterns().listItem.MatchString(line):
			var b block
			b, i = parseList(lines, i)
			out = append(out, b)
		case isTableStart(lines, i):
			b := block{kind: blockTable}
			b.rows = append(b.rows, splitRow(line))
			for i += 2; i < len(lines) && !isBlank(lines[i]) && strings.Contains(lines[i], "|"); i++ {
				b.rows = append(b.rows, splitRow(lines[i]))
			}
			out = append(out, b)
		case indentOf(line) >= 4:
			var code []string
			for ; i < len(lines) && (isBlank(lines[i]) || indentOf(lines[i]) >= 4); i++ {
				code = append(code, dedent(lines[i], 4))
			}
			for len(code) > 0 && isBlank(code[len(code)-1]) {
				code = code[:len(code)-1]
			}
			out = append(out, block{kind: blockCode, code: strings.Join(code, "\n")})
		default:
			para := []string{strings.TrimSpace(line)}
			for i++; i < len(lines) && !isBlank(lines[i]); i++ {
				if m := patterns().setext.FindStringSubmatch(lines[i]); m != nil {
					level := 2
					if m[1][0] == '=' {
						level = 1
					}
					out = append(out, block{kind: blockHeading, level: level, text: strings.Join(para, " ")})
					para = nil
					i++
					break
				}
				if startsBlock(lines[i]) || isTableStart(lines, i) {
					break
				}
				para = append(para, lines[i])
			}
			if para != nil {
				out = append(out, block{kind: blockPara, text: joinParagraph(para)})
			}
		}
	}
	return out
}

// joinParagraph keeps hard line breaks (two trailing spaces or a
// backslash) as "\n" and turns soft ones into spaces.
func joinParagraph(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		l = strings.TrimLeft(l, " \t")
		last := i == len(lines)-1
		switch {
		case last:
			b.WriteString(strings.TrimRight(l, " \t"))
		case strings.HasSuffix(l, "  "):
			b.WriteString(strings.TrimRight(l, " \t") + "\n")
		case strings.HasSuffix(l, `\`) && !strings.HasSuffix(l, `\\`):
			b.WriteString(strings.TrimSuffix(l, `\`) + "\n")
		default:
			b.WriteString(strings.TrimRight(l, " \t") + " ")
		}
	}
	return b.String()
}

func parseList(lines []string, i int) (block, int) {
	first := patterns().listItem.FindStringSubmatch(lines[i])
	ordered := first[2][0] >= '0' && first[2][0] <= '9'
	delim := first[2][len(first[2])-1]
	b := block{kind: blockList, ordered: ordered}
	if ordered {
		b.start, _ = strconv.Atoi(first[2][:len(first[2])-1])
	}
	for i < len(lines) {
		m := patterns().listItem.FindStringSubmatch(lines[i])
		if m == nil {
			break
		}
		if o := m[2][0] >= '0' && m[2][0] <= '9'; o != ordered || m[2][len(m[2])-1] != delim {
			break
		}
		content := len(m[1]) + len(m[2]) + len(m[3])
		if rest := lines[i][len(m[0]):]; isBlank(rest) || len(m[3]) > 4 {
			content = len(m[1]) + len(m[2]) + 1
		}
		item := []string{lines[i][len(m[0]):]}
		if len(m[3]) > 4 {
			item[0] = strings.Repeat(" ", len(m[3])-1) + item[0]
		}
		inFence := patterns().fenceOpen.MatchString(item[0])
		i++
		for i < len(lines) {
			l := lines[i]
			if isBlank(l) {
				// The item goes on only if what follows is indented into it.
				j := i
				for j < len(lines) && isBlank(lines[j]) {
					j++
				}
				if j < len(lines) && indentOf(lines[j]) >= content {
					for ; i < j; i++ {
						item = append(item, "")
					}
					continue
				}
				break
			}
			if indentOf(l) >= content {
				d := dedent(l, content)
				if patterns().fenceOpen.MatchString(d) {
					inFence = !inFence
				}
				item = append(item, d)
				i++
				continue
			}
			// A lazy continuation of the item's paragraph.
			if inFence || startsBlock(l) || isBlank(item[len(item)-1]) || isTableStart(lines, i) {
				break
			}
			item = append(item, strings.TrimLeft(l, " \t"))
			i++
		}
		b.items = append(b.items, parseLines(item))
		// A blank line between items keeps the list going.
		j := i
		for j < len(lines) && isBlank(lines[j]) {
			j++
		}
		if j < len(lines) && j > i && patterns().listItem.MatchString(lines[j]) {
			i = j
		}
	}
	return b, i
}

// splitRow splits a table row at pipes that are not escaped or inside
// inline code.
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var cells []string
	var cur strings.Builder
	ticks := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
			continue
		case c == '`':
			n := 1
			for i+n < len(line) && line[i+n] == '`' {
				n++
			}
			if ticks == 0 {
				ticks = n
			} else if ticks == n {
				ticks = 0
			}
			cur.WriteString(line[i : i+n])
			i += n - 1
			continue
		case c == '|' && ticks == 0:
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// An inline span: text with the emphasis it carries.
type span struct {
	text   string
	code   bool
	strong bool
	em     bool
	link   string // the target of a link, shown after its text
	brk    bool   // a hard line break
}

// parseInline turns a paragraph's text into spans.
func parseInline(s string) []span {
	var out []span
	inline(s, false, false, &out)
	return out
}

func isPunct(c byte) bool {
	return c < 0x80 && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", c) >= 0
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' }

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// codeSpanEnd returns the end of the code span opened by the n backticks
// at i, and -1 when none closes it.
func codeSpanEnd(s string, i, n int) int {
	for j := i + n; j < len(s); {
		k := strings.IndexByte(s[j:], '`')
		if k < 0 {
			return -1
		}
		j += k
		m := 0
		for j+m < len(s) && s[j+m] == '`' {
			m++
		}
		if m == n {
			return j + m
		}
		j += m
	}
	return -1
}

// findCloser finds delim closing emphasis opened before from: not after
// white space, skipping code spans and escapes; for underscores, not
// followed by a letter or digit.
func findCloser(s string, from int, delim string) int {
	for j := from; j < len(s); j++ {
		switch {
		case s[j] == '\\':
			j++
		case s[j] == '`':
			n := 1
			for j+n < len(s) && s[j+n] == '`' {
				n++
			}
			if e := codeSpanEnd(s, j, n); e > 0 {
				j = e - 1
			} else {
				j += n - 1
			}
		case strings.HasPrefix(s[j:], delim) && j > from && !isSpaceByte(s[j-1]):
			after := j + len(delim)
			if after < len(s) && s[after] == delim[0] {
				// A longer run: let the inner emphasis take its part.
				if len(delim) == 1 {
					j = after
					continue
				}
			}
			if delim[0] == '_' && after < len(s) && isAlnum(s[after]) {
				continue
			}
			return j
		}
	}
	return -1
}

func inline(s string, strong, em bool, out *[]span) {
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			*out = append(*out, span{text: text.String(), strong: strong, em: em})
			text.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && isPunct(s[i+1]):
			text.WriteByte(s[i+1])
			i++
		case c == '\n':
			flush()
			*out = append(*out, span{brk: true})
		case c == '`':
			n := 1
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			end := codeSpanEnd(s, i, n)
			if end < 0 {
				text.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			code := strings.ReplaceAll(s[i+n:end-n], "\n", " ")
			if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' && strings.Trim(code, " ") != "" {
				code = code[1 : len(code)-1]
			}
			flush()
			*out = append(*out, span{text: code, code: true, strong: strong, em: em})
			i = end - 1
		case c == '*' || c == '_':
			n := 1
			for i+n < len(s) && s[i+n] == c {
				n++
			}
			opens := i+n < len(s) && !isSpaceByte(s[i+n])
			if c == '_' && i > 0 && isAlnum(s[i-1]) {
				opens = false
			}
			if !opens {
				text.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			delim := strings.Repeat(string(c), min(n, 2))
			if n >= 3 {
				delim = strings.Repeat(string(c), 3)
			}
			end := findCloser(s, i+len(delim), delim)
			if end < 0 && len(delim) == 3 {
				delim = delim[:2]
				end = findCloser(s, i+2, delim)
			}
			if end < 0 {
				text.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			flush()
			inner := s[i+len(delim) : end]
			switch len(delim) {
			case 3:
				inline(inner, true, true, out)
			case 2:
				inline(inner, true, em, out)
			default:
				inline(inner, strong, true, out)
			}
			i = end + len(delim) - 1
		case c == '[':
			close := strings.Index(s[i:], "](")
			if close < 0 {
				text.WriteByte(c)
				continue
			}
			end := strings.IndexByte(s[i+close:], ')')
			if end < 0 {
				text.WriteByte(c)
				continue
			}
			flush()
			label, target := s[i+1:i+close], s[i+close+2:i+close+end]
			before := len(*out)
			inline(label, strong, em, out)
			if target != "" && target != label {
				for k := before; k < len(*out); k++ {
					(*out)[k].link = "-"
				}
				*out = append(*out, span{text: " (" + target + ")", link: target})
			}
			i += close + end
		case c == '<' && strings.HasPrefix(s[i:], "<http"):
			end := strings.IndexByte(s[i:], '>')
			if end < 0 || strings.ContainsAny(s[i:i+end], " \t\n") {
				text.WriteByte(c)
				continue
			}
			flush()
			*out = append(*out, span{text: s[i+1 : i+end], link: s[i+1 : i+end]})
			i += end
		default:
			text.WriteByte(c)
		}
	}
	flush()
}

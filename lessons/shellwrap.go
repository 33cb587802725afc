package lessons

import "strings"

// wrapCommand breaks a shell command at spaces outside quotes into lines
// of at most width cells, ending each continued line with " \", so that
// copying the lines gives the same command. A word longer than width stays
// whole: a long line is better than a broken token.
func wrapCommand(cmd string, width int) []string {
	words := shellWords(cmd)
	if len(words) == 0 || len(cmd) <= width {
		return []string{cmd}
	}
	var lines []string
	line := words[0]
	for _, w := range words[1:] {
		if len(line)+1+len(w)+2 > width {
			lines = append(lines, line+" \\")
			line = "  " + w
			continue
		}
		line += " " + w
	}
	return append(lines, line)
}

// shellWords splits cmd at runs of spaces where a line break with a shell
// continuation keeps the command the same: outside quotes, and inside a
// command substitution within double quotes ("$(kubectl get …)"), where
// spaces only separate words. Never inside single quotes or a plain
// double-quoted string, whose spaces are part of the text.
func shellWords(cmd string) []string {
	var words []string
	var cur strings.Builder
	var (
		single, double bool // top-level quotes
		depth          int  // $( nesting inside double quotes
		innerSingle    bool // single quotes inside that substitution
		innerDouble    bool // double quotes inside that substitution
	)
	rs := []rune(cmd)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		breakable := false
		switch {
		case single:
			single = r != '\''
		case !double:
			switch r {
			case '\'':
				single = true
			case '"':
				double = true
			case ' ', '\t':
				breakable = true
			}
		case depth == 0:
			switch {
			case r == '"':
				double = false
			case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
				depth++
				cur.WriteRune(r)
				i++
				r = rs[i]
			}
		case innerSingle:
			innerSingle = r != '\''
		case innerDouble:
			innerDouble = r != '"'
		default:
			switch {
			case r == '\'':
				innerSingle = true
			case r == '"':
				innerDouble = true
			case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
				depth++
				cur.WriteRune(r)
				i++
				r = rs[i]
			case r == ')':
				depth--
			case r == ' ' || r == '\t':
				breakable = true
			}
		}
		if breakable {
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	return words
}

// WrapCommand is wrapCommand for screens outside lessons that show a
// command to copy.
func WrapCommand(cmd string, width int) []string { return wrapCommand(cmd, width) }

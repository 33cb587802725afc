package lessons

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// isShell reports whether a code block's lines are shell commands.
func isShell(lang string) bool {
	switch lang {
	case "sh", "bash", "shell", "console", "zsh":
		return true
	}
	return false
}

// codeLines shows a code block line for line, never re-wrapped (issue
// 22): a shell command too wide for width is broken at a space outside
// quotes with a " \" continuation, which the shell reads as the same
// command, and any other line too wide (a heredoc's body, YAML, output, a
// command with a comment) is cut at the edge, where a "↩" says it goes
// on, and continues on the next line.
func (rd *render) codeLines(code, lang string, width int) []string {
	width = max(width, 8)
	shell := isShell(lang)
	heredoc := "" // the word that ends the heredoc being read
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(code, "\t", "    "), "\n") {
		kind := lang
		switch {
		case heredoc != "":
			if strings.TrimSpace(line) == heredoc {
				heredoc = ""
			} else {
				kind = "text"
			}
		case shell:
			heredoc = heredocWord(line)
		}
		var pieces []string
		if ansi.StringWidth(line) <= width {
			pieces = []string{line}
		} else {
			// A command with a comment is cut, not re-spaced: the
			// spaces before a comment line it up with its neighbours.
			if _, comment := splitComment(line); shell && kind == lang && comment == "" && !strings.HasSuffix(line, `\`) {
				pieces = wrapCommand(line, width)
			} else {
				pieces = []string{line}
			}
		}
		for _, p := range pieces {
			if ansi.StringWidth(p) <= width {
				out = append(out, rd.highlight(p, kind))
				continue
			}
			cut := cutCode(p, width-1)
			for i, c := range cut {
				hl := rd.highlight(c, "text")
				if i < len(cut)-1 {
					hl += rd.th.muted.Styled("↩")
				}
				out = append(out, hl)
			}
		}
	}
	return out
}

// heredocWord returns the delimiter of a heredoc that line starts
// (<<EOF, <<'EOF', <<-"EOF"), or "".
func heredocWord(line string) string {
	i := strings.Index(line, "<<")
	if i < 0 || strings.HasPrefix(line[i:], "<<<") {
		return ""
	}
	rest := strings.TrimLeft(strings.TrimPrefix(line[i+2:], "-"), " ")
	rest = strings.TrimLeft(rest, `'"`)
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if end < 0 {
		end = len(rest)
	}
	return rest[:end]
}

// highlight colours one line of code: comments, YAML keys, a command's
// first word, a diff's added and removed lines. It is deliberately small:
// the course shows shell, YAML and command output.
func (rd *render) highlight(line, lang string) string {
	th := rd.th
	base := th.codeBlock
	switch lang {
	case "yaml", "yml":
		body, comment := splitComment(line)
		trimmed := strings.TrimLeft(body, " ")
		lead := body[:len(body)-len(trimmed)]
		if strings.HasPrefix(trimmed, "- ") {
			lead += "- "
			trimmed = trimmed[2:]
		}
		if k := yamlKeyEnd(trimmed); k > 0 {
			return base.Styled(lead) + th.key.Styled(trimmed[:k]) + base.Styled(trimmed[k:]) + th.comment.Styled(comment)
		}
		return base.Styled(body) + th.comment.Styled(comment)
	case "sh", "bash", "shell", "console", "zsh":
		body, comment := splitComment(line)
		trimmed := strings.TrimLeft(body, " ")
		lead := body[:len(body)-len(trimmed)]
		if lead == "" && trimmed != "" {
			cmd, rest, _ := strings.Cut(trimmed, " ")
			if rest != "" || strings.HasSuffix(trimmed, " ") {
				rest = " " + rest
			}
			return th.keyword.Styled(cmd) + base.Styled(rest) + th.comment.Styled(comment)
		}
		return base.Styled(body) + th.comment.Styled(comment)
	case "diff":
		switch {
		case strings.HasPrefix(line, "+"):
			return th.added.Styled(line)
		case strings.HasPrefix(line, "-"):
			return th.removed.Styled(line)
		}
	}
	return base.Styled(line)
}

// splitComment splits a "# comment" that starts the line or follows a
// space, outside quotes, from the code before it.
func splitComment(line string) (code, comment string) {
	var single, double bool
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\'' && !double:
			single = !single
		case c == '"' && !single:
			double = !double
		case c == '#' && !single && !double && (i == 0 || line[i-1] == ' '):
			return line[:i], line[i:]
		}
	}
	return line, ""
}

// yamlKeyEnd returns where a "key:" at the start of s ends (after the
// key, before the colon), or 0.
func yamlKeyEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':' && (i+1 == len(s) || s[i+1] == ' '):
			return i
		case c == ' ' || c == '{' || c == '[' || c == '"' || c == '\'' || c == '#':
			return 0
		}
	}
	return 0
}

// cutCode cuts a line of code into pieces of at most width cells, after a
// space where one falls in the second half of a piece (the space stays at
// the end of the piece, so that taking the marks out gives the line back),
// otherwise at the edge.
func cutCode(line string, width int) []string {
	var out []string
	for ansi.StringWidth(line) > width {
		piece := ansi.Cut(line, 0, width)
		if i := strings.LastIndexByte(piece, ' '); i >= len(piece)/2 && strings.TrimSpace(piece[:i]) != "" {
			piece = piece[:i+1]
		}
		out = append(out, piece)
		line = line[len(piece):]
	}
	return append(out, line)
}

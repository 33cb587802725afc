// Package answer compares a learner's free-text answers, to a quiz or to
// a question about the live cluster, the same way everywhere.
package answer

import (
	"regexp"
	"strings"
	"sync"
)

var spaceRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\s+`) })

// Normalize reduces a free-text answer to the form answers are compared in:
// lower case, single spaces, without surrounding quotes, backticks or a
// trailing full stop, so that "`kubectl`." and "KubeCtl" both match kubectl.
func Normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimRight(s, ".!")
	s = strings.Trim(s, " \t`'\"“”‘’")
	s = strings.TrimRight(s, ".!")
	return spaceRE().ReplaceAllString(strings.TrimSpace(s), " ")
}

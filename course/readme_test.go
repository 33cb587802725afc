package course_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
)

// TestReadmeCourseTableMatchesTheCourse keeps the README's course table
// honest: one row per module, in course order, with its lessons, reading
// time, quiz questions and labs as the built-in course has them, and the
// totals. A module added without its row fails here, not in a reader's
// eyes.
func TestReadmeCourseTableMatchesTheCourse(t *testing.T) {
	c, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	start := strings.Index(readme, "\n## The course\n")
	if start < 0 {
		t.Fatal(`README has no "## The course" section`)
	}
	section := readme[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var want []string
	lessons, minutes, questions, labs, tasks := 0, 0, 0, 0, 0
	for i, m := range c.Modules {
		mins := 0
		for _, l := range m.Lessons {
			mins += l.Minutes
		}
		q := 0
		if m.Quiz != nil {
			q = len(m.Quiz.Questions)
		}
		var ls []string
		for _, l := range m.Labs {
			ls = append(ls, fmt.Sprintf("`%s` (%d)", l.ID, len(l.Tasks)))
			tasks += len(l.Tasks)
		}
		labCell := "—"
		if len(ls) > 0 {
			labCell = strings.Join(ls, ", ")
		}
		want = append(want, fmt.Sprintf("| %d | %s | %d | %d min | %d | %s |", i+1, m.Title, len(m.Lessons), mins, q, labCell))
		lessons += len(m.Lessons)
		minutes += mins
		questions += q
		labs += len(m.Labs)
	}
	var rows []string
	for _, line := range strings.Split(section, "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| #") && !strings.HasPrefix(line, "| |") && !strings.HasPrefix(line, "| ---") {
			rows = append(rows, line)
		}
	}
	if len(rows) != len(want) {
		t.Errorf("README's course table has %d module rows; the course has %d modules", len(rows), len(want))
	}
	for i := range min(len(rows), len(want)) {
		// Labs may be listed in any order.
		if !sameCells(rows[i], want[i]) {
			t.Errorf("README row %d:\n got  %s\n want %s", i+1, rows[i], want[i])
		}
	}
	total := fmt.Sprintf("| | **total** | **%d** | **about %d h** | **%d** | **%d labs, %d tasks** |", lessons, (minutes+30)/60, questions, labs, tasks)
	if !strings.Contains(section, total) {
		t.Errorf("README's course table lacks the totals row %s", total)
	}
	for _, n := range []string{fmt.Sprintf("%d quiz questions", questions), fmt.Sprintf("%d labs", labs)} {
		if !strings.Contains(section, n) {
			t.Errorf("README's course section does not say %q", n)
		}
	}
}

// sameCells compares table rows cell by cell, the lab cell as a set.
func sameCells(a, b string) bool {
	ca, cb := strings.Split(a, " | "), strings.Split(b, " | ")
	if len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if i == len(ca)-1 {
			sa, sb := strings.Split(strings.TrimSuffix(ca[i], " |"), ", "), strings.Split(strings.TrimSuffix(cb[i], " |"), ", ")
			if len(sa) != len(sb) {
				return false
			}
			for _, x := range sa {
				if !strings.Contains(cb[i], x) {
					return false
				}
			}
			continue
		}
		if ca[i] != cb[i] {
			return false
		}
	}
	return true
}

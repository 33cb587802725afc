package tui

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
)

// longCourse has more rows on the course map than fit a 160x48 window, so
// the map scrolls at every size tested.
func longCourse(t *testing.T) *course.Course {
	t.Helper()
	const modules, lessons = 6, 8
	fsys := fstest.MapFS{}
	var ids []string
	for m := 1; m <= modules; m++ {
		id := fmt.Sprintf("module-%d", m)
		ids = append(ids, id)
		fsys[id+"/module.yaml"] = &fstest.MapFile{Data: fmt.Appendf(nil, "apiVersion: k8slab.dev/v1alpha1\nkind: Module\nid: %s\ntitle: Module number %d\n", id, m)}
		for l := 1; l <= lessons; l++ {
			fsys[fmt.Sprintf("%s/lessons/%02d.md", id, l)] = &fstest.MapFile{Data: fmt.Appendf(nil, "---\nid: m%d-l%d\ntitle: Lesson %d of module %d\norder: %d\nminutes: 2\n---\n\nText.\n", m, l, l, m, l)}
		}
	}
	fsys["course.yaml"] = &fstest.MapFile{Data: []byte("apiVersion: k8slab.dev/v1alpha1\nkind: Course\nid: long\ntitle: Long course\nmodules: [" + strings.Join(ids, ", ") + "]\n")}
	c, err := course.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The first screen of a course longer than the window shows the first
// module's heading above the selected first lesson. The app lays its
// screens out before it knows the window's size, which used to scroll the
// heading out of view for good.
func TestHomeScreenLongCourse(t *testing.T) {
	for _, size := range []struct {
		name string
		w, h int
	}{{"80x24", 80, 24}, {"160x48", 160, 48}} {
		t.Run(size.name, func(t *testing.T) {
			f := newFixture(t)
			f.course = longCourse(t)
			app := New(Options{Course: f.course, Store: f.store, Now: func() time.Time { return testNow }})
			// In a terminal the colour profile arrives before the window's
			// size (teatest knows the size from the start).
			app.Update(tea.ColorProfileMsg{Profile: colorprofile.TrueColor})
			tm := f.startApp(t, app, size.w, size.h)
			waitFor(t, tm, "Next:")
			screen := finalScreen(t, tm)
			lines := strings.Split(screen, "\n")
			if len(lines) < 7 || !strings.HasPrefix(lines[5], "  1  Module number 1") || !strings.HasPrefix(lines[6], "   › ▸ Lesson 1 of module 1") {
				t.Errorf("the first screen does not open on module 1's heading and its selected first lesson:\n%s", screen)
			}
			golden.RequireEqual(t, screen)
		})
	}
}

// A window made tiny and then large again shows the selected row's module
// heading again, not only the row.
func TestHomeScreenGrowShowsModuleHeading(t *testing.T) {
	f := newFixture(t)
	f.course = longCourse(t)
	tm := f.start(t, 80, 24, false)
	waitFor(t, tm, "Next:")
	press(tm, "j", "j", "j", "j", "j", "j", "j", "j") // the first lesson of module 2
	waitFor(t, tm, "› · Lesson 1 of module 2")
	tm.Send(tea.WindowSizeMsg{Width: 80, Height: 8})
	tm.Send(tea.WindowSizeMsg{Width: 80, Height: 24})
	screen := finalScreen(t, tm)
	lines := strings.Split(screen, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "   › · Lesson 1 of module 2") {
			if i == 0 || !strings.HasPrefix(lines[i-1], "  2  Module number 2") {
				t.Errorf("the selected row is not under its module heading:\n%s", screen)
			}
			return
		}
	}
	t.Errorf("the selected row is not shown:\n%s", screen)
}

// No item of the built-in course map is named with two labels, as in
// "Lab: Capstone: …".
func TestBuiltInTitlesHaveOneLabel(t *testing.T) {
	builtIn, err := course.Load(assets.Course())
	if err != nil {
		t.Fatal(err)
	}
	twice := regexp.MustCompile(`^(Lab|Quiz): [A-Z][A-Za-z]*: `)
	for _, r := range courseRows(builtIn) {
		if title := rowTitle(builtIn, r); twice.MatchString(title) {
			t.Errorf("%s is shown as %q", r.id, title)
		}
	}
}

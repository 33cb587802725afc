package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/assets"
	"github.com/k8slab/k8slab/course"
	"github.com/k8slab/k8slab/images"
	"github.com/k8slab/k8slab/internal/source"
)

func newLintCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "lint [DIR]",
		Short: "Check a course folder for mistakes",
		Long: `Check a course folder: every file's syntax, required fields, ids, quiz
answers, lesson front matter, lab files (their checks, expressions, solutions
and how each task is graded), and the glossary and cheat sheet when the course
has them (every glossary term's lesson must exist). Every problem is printed as
FILE:LINE: MESSAGE, and the exit status is 1 when there are any. Without DIR,
the folder given with --content, or else the built-in course, is checked.`,
		Example: "  k8slab lint ./my-course",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := g.contentDir
			if len(args) == 1 {
				dir = args[0]
			}
			fsys, name := assets.Course(), "built-in course"
			if dir != "" {
				st, err := os.Stat(dir)
				if err != nil || !st.IsDir() {
					return fmt.Errorf("%s is not a folder; give the folder that holds %s", dir, course.CourseFile)
				}
				fsys, name = os.DirFS(dir), dir
			}
			c, err := course.Load(fsys)
			var ps source.Problems
			if errors.As(err, &ps) {
				err = nil
			}
			// The image catalogue is optional; when present it must be right,
			// because the simulated cluster decides pulls and probes by it.
			catalog, catErr := images.Load(fsys)
			var catPs source.Problems
			if errors.As(catErr, &catPs) {
				ps, catErr = append(ps, catPs...), nil
			}
			if err == nil {
				err = catErr
			}
			if len(ps) > 0 {
				ps.Sort()
				for _, p := range ps {
					if dir != "" {
						p.File = dir + string(os.PathSeparator) + p.File
					}
					fmt.Fprintln(g.out, p.String())
				}
				fmt.Fprintf(g.out, "%d problem(s) in %s\n", len(ps), name)
				return exitCode(1)
			}
			if err != nil {
				return err
			}
			lessonsN, questions := 0, 0
			for _, m := range c.Modules {
				lessonsN += len(m.Lessons)
				if m.Quiz != nil {
					questions += len(m.Quiz.Questions)
				}
			}
			fmt.Fprintf(g.out, "%s: ok (%d modules, %d lessons, %d quiz questions", name, len(c.Modules), lessonsN, questions)
			if len(c.Glossary) > 0 {
				fmt.Fprintf(g.out, ", %d glossary terms", len(c.Glossary))
			}
			if catalog != nil {
				fmt.Fprintf(g.out, ", %d images", len(catalog.Images))
			}
			fmt.Fprintln(g.out, ")")
			return nil
		},
	}
}

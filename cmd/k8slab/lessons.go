package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/lessons"
)

func newLessonsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lessons",
		Short: "List the course's lessons",
		Long: `List every lesson of the course in order, with its module's number (what
'k8slab quiz' takes), its id (what 'lessons show' takes) and reading time.`,
		Args: unknownCommand,
		RunE: func(cmd *cobra.Command, _ []string) error {
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODULE\tID\tTITLE\tMINUTES")
			for i, m := range course.Modules {
				for _, l := range m.Lessons {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%d\n", i+1, l.ID, l.Title, l.Minutes)
				}
			}
			return tw.Flush()
		},
	}
	cmd.AddCommand(newLessonsShowCmd(g))
	return cmd
}

func newLessonsShowCmd(g *globals) *cobra.Command {
	var width int
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Print one lesson",
		Long: `Print one lesson, rendered for the terminal. When the output is not a
terminal (a pipe or a file) or NO_COLOR is set, the text is plain, without colours.`,
		Example: "  k8slab lessons show control-plane | less",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			l, ok := course.Lesson(args[0])
			if !ok {
				return fmt.Errorf("no lesson with id %q; 'k8slab lessons' lists them", args[0])
			}
			w := 80
			if f, ok := g.out.(*os.File); ok && term.IsTerminal(f.Fd()) {
				if tw, _, err := term.GetSize(f.Fd()); err == nil && tw > 0 {
					w = min(tw, 100)
				}
			}
			if width > 0 {
				w = width
			}
			// The writer drops colours for NO_COLOR and every escape code
			// when the output is not a terminal; such output is rendered in
			// the style made for it.
			pw := colorprofile.NewWriter(g.out, os.Environ())
			style := lessons.Dark
			if pw.Profile <= colorprofile.ASCII {
				style = lessons.NoColor
			}
			out, err := lessons.NewRenderer().Render(l.Body, style, w)
			if err != nil {
				return err
			}
			if pw.Profile == colorprofile.NoTTY {
				out = trimLineEnds(ansi.Strip(out))
			}
			_, err = fmt.Fprintf(pw, "%s\n%s\n%s", l.Title, strings.Repeat("=", len([]rune(l.Title))), out)
			return err
		},
	}
	cmd.Flags().IntVar(&width, "width", 0, "wrap the text at this many columns (default: the terminal's width, or 80)")
	return cmd
}

// trimLineEnds drops any padding at the end of a line (table cells), which
// is invisible on a terminal but clutters a file or a pipe.
func trimLineEnds(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

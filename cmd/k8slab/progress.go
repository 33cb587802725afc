package main

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

func newProgressCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "progress",
		Short: "Show what you have done so far",
		Long:  "Show, per module, the lessons you have read and your best quiz scores, and where the progress file is.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			store, warning, err := g.openStore()
			if err != nil {
				return err
			}
			if warning != "" {
				fmt.Fprintln(g.err, "k8slab:", warning)
			}
			d := store.Snapshot()
			tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODULE\tLESSONS READ\tQUIZ")
			read, total := 0, 0
			for i, m := range course.Modules {
				n := 0
				for _, l := range m.Lessons {
					if !d.Lessons[l.ID].ReadAt.IsZero() {
						n++
					}
				}
				read, total = read+n, total+len(m.Lessons)
				quizText := "-"
				if m.Quiz != nil {
					quizText = "not taken"
					if st, ok := d.Quizzes[m.Quiz.ID]; ok && len(st.Attempts) > 0 {
						quizText = fmt.Sprintf("best %d%% in %d attempt(s)", st.BestPercent, len(st.Attempts))
						if st.Passed {
							quizText += ", passed"
						}
					}
				}
				fmt.Fprintf(tw, "%d %s\t%d/%d\t%s\n", i+1, m.Title, n, len(m.Lessons), quizText)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(g.out, "\n%d of %d lessons read. Progress is kept in %s\n", read, total, store.Path())
			return nil
		},
	}
	cmd.AddCommand(newProgressResetCmd(g))
	return cmd
}

func newProgressResetCmd(g *globals) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Forget all progress (asks first)",
		Long:  "Delete the progress file: lessons read, quiz scores and lab results. It asks for confirmation unless --yes is given.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, _, err := g.openStore()
			if err != nil {
				return err
			}
			if !yes {
				fmt.Fprintf(g.out, "Delete all progress in %s? This cannot be undone. [y/N] ", store.Path())
				line, _ := bufio.NewReader(g.in).ReadString('\n')
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					fmt.Fprintln(g.out, "Nothing was deleted.")
					return nil
				}
			}
			if err := store.Reset(); err != nil {
				return err
			}
			fmt.Fprintln(g.out, "Progress reset.")
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

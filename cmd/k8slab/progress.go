package main

import (
	"bufio"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/k8slab/k8slab/labfile"
	"github.com/k8slab/k8slab/progress/summary"
)

func newProgressCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "progress",
		Short: "Show what you have done so far",
		Long:  "Show, per module, the lessons you have read, your best quiz scores and the labs you have finished, and where the progress file is.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			course, err := g.loadCourse()
			if err != nil {
				return err
			}
			store, err := g.openStoreWarned()
			if err != nil {
				return err
			}
			d := store.Snapshot()
			// The same totals as the TUI's course map, on the same cluster.
			sum := summary.Of(course, d, g.clusterLacks()...)
			tw := tabwriter.NewWriter(g.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "MODULE\tLESSONS READ\tQUIZ\tLABS")
			read, lessons := 0, 0
			for i, m := range course.Modules {
				ms := sum.Modules[i]
				read, lessons = read+ms.LessonsRead, lessons+ms.Lessons
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
				labText := "-"
				if ms.Labs > 0 {
					labText = fmt.Sprintf("%d/%d done (%d/%d tasks)", ms.LabsDone, ms.Labs, ms.TasksDone, ms.Tasks)
				}
				fmt.Fprintf(tw, "%d %s\t%d/%d\t%s\t%s\n", i+1, m.Title, ms.LessonsRead, ms.Lessons, quizText, labText)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			elsewhere := 0
			for _, ms := range sum.Modules {
				elsewhere += ms.Elsewhere
			}
			if elsewhere > 0 {
				fmt.Fprintf(g.out, "\n%d lab task(s) not counted: your cluster cannot run them ('k8slab labs' shows what each lab needs).\n", elsewhere)
			}
			fmt.Fprintf(g.out, "\n%d of %d done (lessons read, quizzes passed, labs finished); %d of %d lessons read.\nProgress is kept in %s\n",
				sum.Done(), sum.Total(), read, lessons, store.Path())
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

// clusterLacks is what the labs the TUI would open cannot ask (see lacks):
// progress needs no cluster.
func (g *globals) clusterLacks() []labfile.Feature { return g.lacks(&g.tui) }

package timeline

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/k8slab/k8slab/internal/wordwrap"
)

// ActionLine is the first line of an action: "12:01:07 you (kubectl-scale)
// set deployment/web replicas 3 → 5", in loc's clock.
func ActionLine(a Action, loc *time.Location) string {
	s := a.Time.In(loc).Format("15:04:05")
	if a.Actor != "" {
		s += " " + a.Actor
	}
	return s + " " + a.Text
}

// StepLine is one step without its indent: "+0.02 s scheduler placed web-1
// on w1".
func StepLine(s Step) string {
	return Offset(s) + " " + actorText(s)
}

// actorText joins who did it and what; the kubelet's lines read as
// "kubelet on w1: web-1 pulled, started".
func actorText(s Step) string {
	if strings.HasPrefix(s.Actor, "kubelet") {
		return s.Actor + ": " + s.Text
	}
	return s.Actor + " " + s.Text
}

// WhyLine is a step's why: "why: ... (lesson: Title)".
func WhyLine(s Step) string {
	out := "why: " + s.Why
	if s.Lesson != "" {
		out += " (lesson: " + s.Lesson + ")"
	}
	return out
}

// Offset writes a step's time since its action: to the hundredth of a
// second when measured that finely, else to the second.
func Offset(s Step) string {
	d := s.Offset
	if d < 0 {
		d = 0
	}
	sec := d.Seconds()
	switch {
	case !s.Precise:
		return fmt.Sprintf("+%d s", int64(d.Round(time.Second)/time.Second))
	case sec < 1:
		return fmt.Sprintf("+%.2f s", sec)
	case sec < 10:
		return fmt.Sprintf("+%.1f s", sec)
	}
	return fmt.Sprintf("+%.0f s", sec)
}

// WriteText writes the timeline as text, one line per action and one
// indented line per step; the first step of each kind that has a why
// (Annotate) is followed by it.
func WriteText(w io.Writer, acts []Action, loc *time.Location) error {
	told := map[string]bool{}
	if len(acts) == 0 {
		_, err := fmt.Fprintln(w, "Nothing recorded yet: no change to the lab's objects that the cluster still remembers.")
		return err
	}
	for i, a := range acts {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		if _, err := fmt.Fprintln(w, ActionLine(a, loc)); err != nil {
			return err
		}
		for _, s := range a.Steps {
			if _, err := fmt.Fprintln(w, "  "+StepLine(s)); err != nil {
				return err
			}
			if s.Why != "" && !told[s.Kind] {
				told[s.Kind] = true
				for _, l := range wordwrap.Lines(WhyLine(s), 80-6) {
					if _, err := fmt.Fprintln(w, "      "+l); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// WriteJSON writes the timeline as a JSON document: {"actions": [...]},
// offsets in seconds.
func WriteJSON(w io.Writer, acts []Action) error {
	type step struct {
		Step
		Offset float64 `json:"offsetSeconds"`
	}
	type action struct {
		Action
		Steps []step `json:"steps"`
	}
	out := struct {
		Actions []action `json:"actions"`
	}{Actions: []action{}}
	for _, a := range acts {
		ja := action{Action: a, Steps: []step{}}
		for _, s := range a.Steps {
			ja.Steps = append(ja.Steps, step{Step: s, Offset: s.Offset.Seconds()})
		}
		out.Actions = append(out.Actions, ja)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

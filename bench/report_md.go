package bench

import (
	"fmt"
	"io"
	"strings"

	"github.com/faultline/faultline/internal/format"
)

// WriteMarkdown writes the report for a pull request: what ran, the
// verdicts, the SLOs, and a table per metric.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# faultline bench: %s\n\n", strings.Join(r.Matrix.Scenarios, ", "))
	if r.Partial {
		fmt.Fprintf(&b, "> **Partial report**: %d of %d runs finished; the figures cover those only.\n\n", r.Done, r.Total)
	}
	b.WriteString(r.intro() + "\n\n")
	mdTable(&b, r.variantTable())

	if lines := r.verdicts(); len(lines) > 0 || r.suggestion() != "" {
		b.WriteString("## Verdict\n\n")
		if s := r.suggestion(); s != "" {
			b.WriteString(s + "\n\n")
		}
		for _, l := range lines {
			b.WriteString("- " + l + "\n")
		}
		b.WriteString("\n")
	}
	if len(r.SLOs) > 0 {
		b.WriteString("## SLOs\n\nEach objective is checked on the mean across replications.\n\n")
		mdTable(&b, r.sloTable())
	}
	b.WriteString("## Metrics\n\n")
	for _, t := range r.metricTables() {
		mdTable(&b, t)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdTable(b *strings.Builder, t table) {
	if t.title != "" {
		fmt.Fprintf(b, "### %s\n\n", t.title)
	}
	if t.note != "" {
		fmt.Fprintf(b, "%s\n\n", t.note)
	}
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	b.WriteString("|")
	for _, h := range t.head {
		b.WriteString(" " + cell(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.head {
		if i < len(t.right) && t.right[i] {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, row := range t.rows {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + cell(c) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// intro says what ran and how to read the figures.
func (r *Report) intro() string {
	s := fmt.Sprintf("%s of %s (seeds %s), %s.", format.Plural(r.Matrix.Replications, "replication"), format.Plural(len(r.Matrix.Cells), "variant"),
		r.seedsText(), format.Plural(r.Done, "run"))
	if len(r.Matrix.SweepKeys) > 0 {
		s += fmt.Sprintf(" Swept: %s.", strings.Join(r.Matrix.SweepKeys, ", "))
	}
	return s + fmt.Sprintf(" Baseline: %s. Intervals are 95%% confidence intervals of the mean (Student's t); %s", r.Matrix.Baseline, r.testsText())
}

// testsText says how the differences from the baseline were tested.
func (r *Report) testsText() string {
	const paired = "a paired t-test on the per-replication differences, as replication i of a variant and of the baseline ran with the same seed and so drew the same random numbers"
	const welch = "Welch's unpaired t-test"
	switch r.tests() {
	case PairedT:
		return "a difference from the baseline is significant when its 95% interval excludes zero, by " + paired + "."
	case WelchT:
		return "a difference from the baseline is significant when its 95% interval excludes zero, by " + welch + ", as the replications of the variants and of the baseline did not all run with the same seeds."
	case mixedTests:
		return "a difference from the baseline is significant when its 95% interval excludes zero, by " + paired + "; by " + welch + " where marked (Welch), as some value of the variant or of the baseline has no twin (the same replication, with the same seed) in the other."
	}
	return "a difference from the baseline is significant when its 95% interval excludes zero."
}

func itoa(n int) string { return fmt.Sprint(n) }

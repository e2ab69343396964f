package bench

import (
	"html"
	"io"
	"strings"
)

// WriteHTML writes one self-contained page: the tables of the Markdown
// report and inline SVG charts, with no external resource, so that it
// opens offline and can be attached to a CI run.
func (r *Report) WriteHTML(w io.Writer) error {
	var b strings.Builder
	title := "faultline bench: " + strings.Join(r.Matrix.Scenarios, ", ")
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>" + html.EscapeString(title) + "</title>\n<style>\n" + css + "</style></head><body>\n")
	b.WriteString("<h1>" + html.EscapeString(title) + "</h1>\n")
	if r.Partial {
		b.WriteString("<p class=\"partial\"><b>Partial report</b>: " + html.EscapeString(itoa(r.Done)+" of "+itoa(r.Total)) + " runs finished; the figures cover those only.</p>\n")
	}
	b.WriteString("<p>" + html.EscapeString(r.intro()) + "</p>\n")
	htmlTable(&b, r.variantTable())
	if lines := r.verdicts(); len(lines) > 0 || r.suggestion() != "" {
		b.WriteString("<h2>Verdict</h2>\n")
		if s := r.suggestion(); s != "" {
			b.WriteString("<p class=\"suggest\">" + mdInline(s) + "</p>\n")
		}
		b.WriteString("<ul>\n")
		for _, l := range lines {
			b.WriteString("<li>" + mdInline(l) + "</li>\n")
		}
		b.WriteString("</ul>\n")
	}
	if len(r.SLOs) > 0 {
		b.WriteString("<h2>SLOs</h2>\n<p>Each objective is checked on the mean across replications.</p>\n")
		htmlTable(&b, r.sloTable())
	}
	b.WriteString("<h2>Charts</h2>\n")
	b.WriteString("<p>Lines are the mean across replications; the band around each is the range from the lowest to the highest replication. Shaded: fault windows.</p>\n")
	section := ""
	for _, ch := range r.charts() {
		if ch.section != section {
			section = ch.section
			b.WriteString("<h3>" + html.EscapeString(section) + "</h3>\n")
		}
		if ch.svg == "" {
			b.WriteString("<p class=\"note\">" + html.EscapeString(ch.caption) + "</p>\n")
			continue
		}
		b.WriteString("<figure>" + ch.svg + "<figcaption>" + html.EscapeString(ch.caption) + "</figcaption></figure>\n")
	}
	b.WriteString("<h2>Metrics</h2>\n")
	for _, t := range r.metricTables() {
		htmlTable(&b, t)
	}
	b.WriteString("</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

const css = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:0.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.better td:last-child,tr.met td:last-child{color:#176a2c;font-weight:600}
tr.worse td:last-child,tr.violated td:last-child{color:#b3261e;font-weight:600}
.partial{background:#fff3cd;padding:0.5em;border:1px solid #e0c060}
.suggest{font-size:1.1em}
figure{margin:1em 0}
figcaption{font-size:13px;color:#555}
h3{margin-bottom:0.2em}
.note{color:#555;margin:0 0 0.3em;font-size:13px}
`

func htmlTable(b *strings.Builder, t table) {
	if t.title != "" {
		b.WriteString("<h3>" + html.EscapeString(t.title) + "</h3>\n")
	}
	if t.note != "" {
		b.WriteString("<p class=\"note\">" + html.EscapeString(t.note) + "</p>\n")
	}
	b.WriteString("<table><tr>")
	for _, h := range t.head {
		b.WriteString("<th>" + html.EscapeString(h) + "</th>")
	}
	b.WriteString("</tr>\n")
	for i, row := range t.rows {
		class := ""
		if i < len(t.status) && t.status[i] != "" {
			class = ` class="` + strings.ReplaceAll(t.status[i], " ", "-") + `"`
		}
		b.WriteString("<tr" + class + ">")
		for j, c := range row {
			if j < len(t.right) && t.right[j] {
				b.WriteString(`<td class="num">` + html.EscapeString(c) + "</td>")
			} else {
				b.WriteString("<td>" + html.EscapeString(c) + "</td>")
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n")
}

// mdInline turns the **bold** of a verdict line into HTML.
func mdInline(s string) string {
	parts := strings.Split(html.EscapeString(s), "**")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString("<b>" + p + "</b>")
		} else {
			b.WriteString(p)
		}
	}
	return b.String()
}

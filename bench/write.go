package bench

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline/faultline/internal/outfile"
)

// Formats are the report formats, in the order they are written.
var Formats = []string{"md", "html", "json", "csv"}

// ParseFormats reads a comma-separated list of formats.
func ParseFormats(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(strings.ToLower(f))
		if f == "markdown" {
			f = "md"
		}
		if !slices.Contains(Formats, f) {
			return nil, fmt.Errorf("unknown format %q: want some of %s", f, strings.Join(Formats, ","))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// WriteFiles writes the report in each format into dir, each file
// atomically, and returns the paths written.
func (r *Report) WriteFiles(dir string, formats []string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	type file struct {
		name  string
		write func(io.Writer) error
	}
	var files []file
	for _, f := range formats {
		switch f {
		case "md":
			files = append(files, file{"report.md", r.WriteMarkdown})
		case "html":
			files = append(files, file{"report.html", r.WriteHTML})
		case "json":
			files = append(files, file{"report.json", r.WriteJSON})
		case "csv":
			files = append(files, file{"runs.csv", r.WriteRunsCSV}, file{"series.csv", r.WriteSeriesCSV})
			if len(r.Comparisons) > 0 {
				files = append(files, file{"comparisons.csv", r.WriteComparisonsCSV})
			}
			if len(r.StabilityMap()) > 0 {
				files = append(files, file{"stability.csv", r.WriteStabilityCSV})
			}
		}
	}
	var written []string
	for _, f := range files {
		var buf bytes.Buffer
		if err := f.write(&buf); err != nil {
			return written, fmt.Errorf("%s: %w", f.name, err)
		}
		path := filepath.Join(dir, f.name)
		if err := outfile.WriteFile(path, buf.Bytes()); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

package bench

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/internal/outfile"
)

// Shard is a deterministic slice of a matrix's jobs: job j belongs to
// shard j mod N. The zero Shard is the whole matrix.
type Shard struct {
	I, N int
}

// Has reports whether job j belongs to the shard.
func (s Shard) Has(j int) bool { return s.N == 0 || j%s.N == s.I }

func (s Shard) String() string {
	if s.N == 0 {
		return "all"
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// ParseShard reads "i/n" (0 <= i < n), or "n" alone, in which case the
// index comes from the environment: JOB_COMPLETION_INDEX (a Kubernetes
// Indexed Job) or SLURM_ARRAY_TASK_ID (a Slurm job array), both 0-based.
func ParseShard(s string, getenv func(string) string) (Shard, error) {
	is, ns, hasIndex := strings.Cut(s, "/")
	if !hasIndex {
		is, ns = "", s
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 {
		return Shard{}, fmt.Errorf("--shard %q: want i/n with 0 <= i < n, or n with the index in JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID", s)
	}
	if !hasIndex {
		for _, env := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"} {
			if v := getenv(env); v != "" {
				is = v
				break
			}
		}
		if is == "" {
			return Shard{}, fmt.Errorf("--shard %s: no index: give i/%d, or set JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID", s, n)
		}
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard: index %q must be an integer in 0..%d", is, n-1)
	}
	return Shard{I: i, N: n}, nil
}

// Partial is the result of one shard (or of an interrupted bench): the
// matrix it belongs to and the runs it finished.
type Partial struct {
	Format string  `json:"format"` // partialFormat
	Matrix *Matrix `json:"matrix"`
	Shard  Shard   `json:"shard"`
	// Interrupted is true when the shard was stopped before it finished.
	Interrupted bool  `json:"interrupted,omitempty"`
	Runs        []Run `json:"runs"`
}

// partialFormat marks a file as a shard result and versions it.
const partialFormat = "faultline-bench-partial/1"

// PartialName is the file a shard writes in its output directory.
func PartialName(s Shard) string {
	if s.N == 0 {
		return "partial.json"
	}
	return fmt.Sprintf("partial-%d-of-%d.json", s.I, s.N)
}

// WritePartial writes a shard's runs into dir, atomically.
func WritePartial(dir string, p *Partial) (string, error) {
	p.Format = partialFormat
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	if err := enc.Encode(p); err != nil {
		return "", err
	}
	path := filepath.Join(dir, PartialName(p.Shard))
	return path, outfile.WriteFile(path, buf.Bytes())
}

// ReadPartials reads the shard results in each argument: a partial file,
// or a directory holding partial-*.json files.
func ReadPartials(args []string) ([]*Partial, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		found, _ := filepath.Glob(filepath.Join(a, "partial*.json"))
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no partial*.json file (written by bench --shard)", a)
		}
		files = append(files, found...)
	}
	slices.Sort(files)
	var out []*Partial
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return nil, fmt.Errorf("%s: the file is empty: not a bench shard result (bench --shard writes one)", f)
		}
		var p Partial
		if err := json.Unmarshal(data, &p); err != nil {
			return nil, fmt.Errorf("%s: not a bench shard result: %v", f, err)
		}
		if p.Format != partialFormat || p.Matrix == nil {
			return nil, fmt.Errorf("%s: not a bench shard result (format %q, want %q)", f, p.Format, partialFormat)
		}
		out = append(out, &p)
	}
	return out, nil
}

// Merge combines shard results of one matrix into its runs in job order;
// complete is false when some jobs have no run (a shard missing or
// interrupted).
func Merge(parts []*Partial) (m *Matrix, runs []Run, complete bool, err error) {
	if len(parts) == 0 {
		return nil, nil, false, errors.New("nothing to merge")
	}
	first, _ := json.Marshal(parts[0].Matrix)
	seen := map[int]bool{}
	for k, p := range parts {
		this, _ := json.Marshal(p.Matrix)
		if !bytes.Equal(first, this) {
			return nil, nil, false, fmt.Errorf("shard %s was run with another matrix than shard %s (other scenarios, flags or versions)", p.Shard, parts[0].Shard)
		}
		for _, r := range p.Runs {
			j := r.Cell*p.Matrix.Replications + r.Rep
			if r.Cell < 0 || r.Cell >= len(p.Matrix.Cells) || r.Rep < 0 || r.Rep >= p.Matrix.Replications {
				return nil, nil, false, fmt.Errorf("part %d: run of cell %d replication %d is outside the matrix", k+1, r.Cell, r.Rep)
			}
			if seen[j] {
				return nil, nil, false, fmt.Errorf("%s replication %d is in two parts", p.Matrix.Cells[r.Cell].Label, r.Rep)
			}
			seen[j] = true
			runs = append(runs, r)
		}
	}
	m = parts[0].Matrix
	slices.SortFunc(runs, func(a, b Run) int { return cmp.Or(cmp.Compare(a.Cell, b.Cell), cmp.Compare(a.Rep, b.Rep)) })
	return m, runs, len(seen) == m.Jobs(), nil
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSLOExitCodes: a violated SLO is exit code 3 for run and bench, after
// the normal output; met SLOs leave it 0.
func TestSLOExitCodes(t *testing.T) {
	out := t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		want string // in stdout
	}{
		{"run violated", []string{"run", "bench/testdata/small.toml", "--variant", "plain"}, 3, "VIOLATED  users success_rate >= 90.0%"},
		{"run met", []string{"run", "bench/testdata/small.toml", "--unset", "fault.1"}, 0, "met       users p99 <= 150 ms"},
		{"run json", []string{"run", "bench/testdata/small.toml", "--json"}, 3, `"scenario": "small"`},
		{"bench violated", []string{"bench", "bench/testdata/small.toml", "--replications", "2", "--out", out, "--format", "md"}, 3, "| VIOLATED |"},
		{"bench met", []string{"bench", "bench/testdata/small.toml", "--replications", "2", "--out", out, "--format", "md",
			"--unset", "fault.latency", "--variant", "plain"}, 0, "| met |"},
		{"no SLO", []string{"run", "mm1", "--duration", "20s"}, 0, "mm1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := faultline(tt.args...)
			if code != tt.code || !strings.Contains(stdout, tt.want) {
				t.Errorf("exit %d, want %d; stdout contains %q: %v\n%s\n%s", code, tt.code, tt.want, strings.Contains(stdout, tt.want), stdout, stderr)
			}
		})
	}
}

// TestBenchUsage: bad flags and overrides are exit code 2 with a caret.
func TestBenchUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"bench"}, "bench needs at least one scenario"},
		{[]string{"bench", "mm1", "--replications", "0"}, "--replications 0"},
		{[]string{"bench", "mm1", "--format", "pdf"}, `unknown format "pdf"`},
		{[]string{"bench", "mm1", "--shard", "3/2"}, "--shard"},
		{[]string{"bench", "mm1", "--set", "client.arival.rate=1"}, "--set:1:8: \"client\": no element named \"arival\"\n    1 | client.arival.rate=1\n      |        ^\nhint: did you mean \"arrivals\"?"},
		{[]string{"bench", "mm1", "--sweep", "client.users.rate"}, "want path=v1,v2"},
		{[]string{"run", "mm1", "--variant", "x"}, `declares no [[variant]]`},
		{[]string{"bench", "merge"}, "needs the directories"},
	}
	for _, tt := range tests {
		code, _, stderr := faultline(tt.args...)
		if code != 2 || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr\n%s\nwant 2 and %q", tt.args, code, stderr, tt.want)
		}
	}
}

// TestBenchShardMergeCLI: shards written by the command line merge into
// the report one run writes.
func TestBenchShardMergeCLI(t *testing.T) {
	dir := t.TempDir()
	args := []string{"bench", "bench/testdata/small.toml", "--replications", "2", "--format", "md,json,csv"}
	code, whole, stderr := faultline(append(args, "--out", filepath.Join(dir, "whole"))...)
	if code != 3 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var parts []string
	for i := range 2 {
		out := filepath.Join(dir, "shard", string(rune('a'+i)))
		t.Setenv("JOB_COMPLETION_INDEX", string(rune('0'+i)))
		if code, _, stderr := faultline(append(args, "--out", out, "--shard", "2")...); code != 0 {
			t.Fatalf("shard %d: exit %d: %s", i, code, stderr)
		}
		parts = append(parts, out)
	}
	code, merged, stderr := faultline(append([]string{"bench", "merge", "--out", filepath.Join(dir, "merged")}, parts...)...)
	if code != 3 || merged != whole {
		t.Fatalf("merge: exit %d, same Markdown %v\n%s", code, merged == whole, stderr)
	}
	for _, f := range []string{"report.md", "report.json", "runs.csv", "series.csv"} {
		a, _ := os.ReadFile(filepath.Join(dir, "whole", f))
		b, _ := os.ReadFile(filepath.Join(dir, "merged", f))
		if len(a) == 0 || string(a) != string(b) {
			t.Errorf("%s differs between one run and the merge of shards", f)
		}
	}
}

// TestBenchMergeMissingShard: a merge with a shard missing writes its
// report, which says Partial, and exits non-zero.
func TestBenchMergeMissingShard(t *testing.T) {
	dir := t.TempDir()
	shard := filepath.Join(dir, "shard-0")
	t.Setenv("JOB_COMPLETION_INDEX", "0")
	if code, _, stderr := faultline("bench", "mm1", "--duration", "15s", "--replications", "2", "--shard", "2", "--out", shard); code != 0 {
		t.Fatalf("shard: exit %d: %s", code, stderr)
	}
	code, md, stderr := faultline("bench", "merge", shard, "--out", filepath.Join(dir, "merged"), "--format", "md")
	if code != 1 || !strings.Contains(stderr, "the report is partial") || !strings.Contains(md, "Partial") {
		t.Errorf("merge of 1 of 2 shards: exit %d, stderr %q, Partial in the report: %v", code, stderr, strings.Contains(md, "Partial"))
	}
}

// TestBenchOutChecked: an --out that cannot be made is found before the
// first run (it was found after every run had finished, and the results
// were lost), for bench and bench merge.
func TestBenchOutChecked(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	out := filepath.Join(file, "out")
	for _, args := range [][]string{
		{"bench", "mm1", "--duration", "12s", "--replications", "2", "--out", out},
		{"bench", "merge", t.TempDir(), "--out", out},
	} {
		code, _, errs := faultline(args...)
		if code != 1 || !strings.Contains(errs, "--out: mkdir "+file+": not a directory") || strings.Contains(errs, "runs in") {
			t.Errorf("faultline %q: exit %d, stderr %q; want exit 1 on --out before any run", args, code, errs)
		}
	}
}

// TestBenchMergeRejectsFilesNotShards: bench merge of a file that is no
// shard result names the file and says so, with exit 2; an empty one
// said only "unexpected end of JSON input".
func TestBenchMergeRejectsFilesNotShards(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"empty", "", "the file is empty: not a bench shard result"},
		{"blank", "\n \n", "the file is empty: not a bench shard result"},
		{"cut short", `{"format": "faultline`, "not a bench shard result: unexpected end of JSON input"},
		{"another JSON", `{"scenario": "mm1"}`, "not a bench shard result (format"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "partial-0.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := faultline("bench", "merge", path, "--out", filepath.Join(t.TempDir(), "merged"))
			if code != 2 || !strings.Contains(stderr, path+": "+tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, path+": "+tc.want)
			}
		})
	}
}

package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
)

// TestCommandHelp: 'faultline help CMD' and 'faultline CMD --help' print
// the same help, with the command's flags and an example, on stdout with
// exit 0; each is pinned by testdata/help_CMD.golden.
func TestCommandHelp(t *testing.T) {
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			code, viaHelp, errs := faultline(append([]string{"help"}, strings.Fields(c.name)...)...)
			if code != 0 || errs != "" {
				t.Fatalf("help %s: exit %d, stderr %q", c.name, code, errs)
			}
			code, viaFlag, errs := faultline(append(strings.Fields(c.name), "--help")...)
			if code != 0 || viaFlag != viaHelp {
				t.Errorf("%s --help: exit %d, stderr %q; same text as help: %v", c.name, code, errs, viaFlag == viaHelp)
			}
			if !strings.Contains(viaHelp, "Example:\n  faultline ") {
				t.Errorf("help %s has no example:\n%s", c.name, viaHelp)
			}
			golden(t, "help_"+strings.ReplaceAll(c.name, " ", "_")+".golden", viaHelp)
		})
	}
	code, out, _ := faultline("help")
	if code != 0 {
		t.Fatalf("help: exit %d", code)
	}
	for _, c := range commands() {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("the usage does not list %q", c.name)
		}
	}
	golden(t, "help.golden", out)
}

// TestHelpListsFlagSet: the help lists every flag its command's flag set
// registers, so a flag added to a builder shows without a hand-written
// list.
func TestHelpListsFlagSet(t *testing.T) {
	for _, c := range commands() {
		fs := newFlagSet(c.name)
		c.flags(fs)
		_, out, _ := faultline(append([]string{"help"}, strings.Fields(c.name)...)...)
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(out, "  --"+f.Name) {
				t.Errorf("help %s does not list --%s", c.name, f.Name)
			}
		})
	}
}

// TestFlagTypo: a mistyped flag names the closest one.
func TestFlagTypo(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--jsn"}, "run: unknown flag --jsn; did you mean --json?"},
		{[]string{"bench", "mm1", "--replication", "3"}, "did you mean --replications?"},
		{[]string{"tui", "--pause"}, "did you mean --paused?"},
		{[]string{"run", "--zzzzzz"}, "run: unknown flag --zzzzzz\nRun 'faultline help run' for its flags."},
		{[]string{"rnu"}, `unknown command "rnu"; did you mean "run"?`},
	}
	for _, tt := range tests {
		code, _, errs := faultline(tt.args...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
	}
}

// TestVersionLine: the module version and the commit the go command
// stamps (vcs.revision, vcs.time, vcs.modified).
func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/faultline/faultline", Version: "v0.3.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "af62f4e"}, {Key: "vcs.time", Value: "2025-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	if got, want := versionLine(bi), "faultline v0.3.0 commit af62f4e (2025-01-02T03:04:05Z), modified go1.26.0"; got != want {
		t.Errorf("versionLine = %q, want %q", got, want)
	}
	bi.Settings = nil
	if got, want := versionLine(bi), "faultline v0.3.0 go1.26.0"; got != want {
		t.Errorf("without VCS: %q, want %q", got, want)
	}
	if code, out, _ := faultline("version"); code != 0 || !strings.HasPrefix(out, "faultline ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

// TestVersionFlags: --version, -version and -v are the version command,
// as in most CLIs; --version was "unknown command; did you mean
// version?".
func TestVersionFlags(t *testing.T) {
	_, want, _ := faultline("version")
	for _, flag := range []string{"--version", "-version", "-v"} {
		if code, out, errs := faultline(flag); code != 0 || out != want {
			t.Errorf("faultline %s: exit %d, %q (stderr %q); want 0, %q", flag, code, out, errs, want)
		}
	}
}

// TestComplete: what the completion scripts offer for the words typed so
// far: commands, subcommands, flags from the flag sets, built-in names
// and .toml files.
func TestComplete(t *testing.T) {
	tests := []struct {
		words []string
		want  []string // each must be offered
		not   []string // none of these may be
	}{
		{[]string{""}, []string{"run", "bench", "tui", "validate", "list", "version", "completion", "help", "schema"}, []string{"bench merge"}},
		{[]string{"ru"}, []string{"run"}, []string{"bench"}},
		{[]string{"run", "--js"}, []string{"--json"}, []string{"--seed"}},
		{[]string{"bench", "--rep"}, []string{"--replications"}, nil},
		{[]string{"run", "check"}, []string{"checkout"}, []string{"mm1"}},
		{[]string{"bench", "me"}, []string{"merge", "metastable-retries"}, nil},
		{[]string{"run", "checkout", "me"}, nil, []string{"merge"}},
		{[]string{"validate", "testdata/fl"}, []string{"testdata/flood.toml"}, nil},
		{[]string{"run", "testdata/"}, []string{"testdata/chain10.toml"}, []string{"testdata/run_mm1.golden"}},
		{[]string{"run", "--csv", "testdata/run_m"}, []string{"testdata/run_mm1.golden"}, nil},
		{[]string{"run", "--seed", ""}, nil, []string{"checkout"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}, nil},
		{[]string{"help", "be"}, []string{"bench", "bench merge"}, nil},
	}
	for _, tt := range tests {
		got := complete(tt.words)
		for _, w := range tt.want {
			if !slices.Contains(got, w) {
				t.Errorf("complete %q = %q: %q missing", tt.words, got, w)
			}
		}
		for _, w := range tt.not {
			if slices.Contains(got, w) {
				t.Errorf("complete %q = %q: %q offered", tt.words, got, w)
			}
		}
	}
	code, out, _ := faultline("__complete", "run", "--js")
	if code != 0 || out != "--json\n" {
		t.Errorf("__complete run --js: exit %d, %q", code, out)
	}
}

// TestCompletionScripts: each script calls back into __complete and is
// valid in its shell, when the shell is installed.
func TestCompletionScripts(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errs := faultline("completion", sh)
		if code != 0 || !strings.Contains(out, "faultline __complete") {
			t.Fatalf("completion %s: exit %d, %s", sh, code, errs)
		}
		path, err := exec.LookPath(sh)
		if err != nil {
			continue
		}
		file := filepath.Join(t.TempDir(), "faultline."+sh)
		os.WriteFile(file, []byte(out), 0o644)
		if b, err := exec.Command(path, "-n", file).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", sh, err, b)
		}
	}
	if code, _, _ := faultline("completion", "tcsh"); code != 2 {
		t.Errorf("completion tcsh: exit %d, want 2", code)
	}
}

// TestEmptyFlagValues checks that a flag given an empty value is an error,
// as --seed "" is, rather than taken as not given: a script's unset
// variable (--csv "$OUT", --duration "$D") used to run without the CSV,
// or for the scenario's own duration, and exit 0.
func TestEmptyFlagValues(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"run", "mm1", "--csv", ""}, "--csv"},
		{[]string{"run", "mm1", "--duration", ""}, "--duration"},
		{[]string{"run", "mm1", "--variant", ""}, "--variant"},
		{[]string{"bench", "mm1", "--duration", "", "--replications", "1"}, "--duration"},
		{[]string{"bench", "mm1", "--baseline", "", "--replications", "1"}, "--baseline"},
		{[]string{"bench", "mm1", "--shard", "", "--replications", "1"}, "--shard"},
		{[]string{"import", "-o", "", "traces.json"}, "--o"},
		{[]string{"compare", "mm1", "traces.json", "--sampled", ""}, "--sampled"},
	} {
		code, _, errs := faultline(tc.args...)
		if want := tc.flag + ` "": an empty value`; code != 2 || !strings.Contains(errs, want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, errs, want)
		}
	}
}

package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// TestMain removes the binary the signal tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds faultline once for the tests that send it signals.
func binary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM on Windows")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "faultline-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "faultline")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = errors.New(string(out))
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// loopScenario writes a closed loop of 10 users and a service with no
// service time; think is the users' think time.
func loopScenario(t *testing.T, think string) string {
	path := filepath.Join(t.TempDir(), "loop.toml")
	src := `[scenario]
name = "loop"
duration = "60s"

[[client]]
name = "users"
target = "api"
users = 10
think_time = "` + think + `"

[[service]]
name = "api"
service_time = "0s"
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSignalsStopRuns checks that SIGTERM and SIGINT stop run and bench
// promptly with exit code 130, even in a scenario whose virtual time barely
// advances (think time 1ns: 10^10 events a virtual second), where bench
// used to ignore them inside a slice of virtual time, and that a scenario
// stuck at one instant ends by itself with exit 1 and says what loops.
func TestSignalsStopRuns(t *testing.T) {
	bin := binary(t)
	for _, tc := range []struct {
		name   string
		args   func(dir string) []string
		think  string
		signal syscall.Signal // 0: none, the run ends by itself
		code   int
		stderr string
	}{
		{"bench, SIGTERM", func(dir string) []string {
			return []string{"bench", "--replications", "4", "--out", dir}
		}, "1ns", syscall.SIGTERM, exitInterrupted, "interrupted"},
		{"bench, SIGINT", func(dir string) []string {
			return []string{"bench", "--replications", "4", "--out", dir}
		}, "1ns", syscall.SIGINT, exitInterrupted, "interrupted"},
		{"run, SIGTERM", func(string) []string { return []string{"run"} }, "1ns", syscall.SIGTERM, exitInterrupted, "interrupted at"},
		{"bench, stuck at one instant", func(dir string) []string {
			return []string{"bench", "--replications", "1000", "--out", dir}
		}, "0s", 0, 1, "virtual time stuck at 0s"},
		{"run, stuck at one instant", func(string) []string { return []string{"run"} }, "0s", 0, 1, "virtual time stuck at 0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(bin, append(tc.args(filepath.Join(dir, "out")), loopScenario(t, tc.think))...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			if tc.signal != 0 {
				time.Sleep(time.Second)
				if err := cmd.Process.Signal(tc.signal); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 20s later; stderr: %s", stderr.String())
			}
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit code %d, stderr %q; want %d and %q", code, stderr.String(), tc.code, tc.stderr)
			}
		})
	}
}

// TestSignalsStopTUI checks that SIGTERM, SIGINT and SIGHUP end tui with
// exit code 130, as they end run and bench, once it has restored the
// terminal (the alternate screen left, the cursor shown): it used to exit
// 0 on them. tui runs on a pseudo-terminal, its controlling terminal, as
// under a user's shell.
func TestSignalsStopTUI(t *testing.T) {
	bin := binary(t)
	for _, sg := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sg.String(), func(t *testing.T) {
			master, slave, err := openPTY()
			if err != nil {
				t.Skip(err)
			}
			defer master.Close()
			cmd := exec.Command(bin, "tui", loopScenario(t, "10ms"))
			cmd.Env = append(os.Environ(), "TERM=xterm")
			var stderr bytes.Buffer
			cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			slave.Close()
			var screen bytes.Buffer // what it drew, read so that it never blocks on a full terminal
			read := make(chan struct{})
			go func() { io.Copy(&screen, master); close(read) }()
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			time.Sleep(time.Second)
			if err := cmd.Process.Signal(sg); err != nil {
				t.Fatal(err)
			}
			select {
			case err = <-done:
			case <-time.After(20 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Fatalf("still running 20s later; stderr: %s", stderr.String())
			}
			master.Close()
			<-read
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			}
			if code != exitInterrupted || !strings.Contains(stderr.String(), "interrupted") {
				t.Errorf("exit code %d, stderr %q; want %d and \"interrupted\"", code, stderr.String(), exitInterrupted)
			}
			// xterm's "leave the alternate screen" (rmcup), which tcell
			// writes when it finishes the screen.
			if !strings.Contains(screen.String(), "\x1b[?1049l") {
				t.Errorf("the terminal was not restored: no rmcup in %d bytes drawn", screen.Len())
			}
		})
	}
}

// TestSignalWhileReportWritten checks that a SIGTERM that comes once the
// runs have finished, while bench writes its report, does not cut the
// report short: it used to kill the process with the Markdown half
// printed (and the files not yet written missing). The report is made
// large (301 sweep points, about 170 KB) so that it outgrows the pipe and
// bench is still writing it when the signal comes.
func TestSignalWhileReportWritten(t *testing.T) {
	bin := binary(t)
	dir := t.TempDir()
	rates := make([]string, 0, 301)
	for r := 100; r <= 700; r += 2 {
		rates = append(rates, strconv.Itoa(r))
	}
	cmd := exec.Command(bin, "bench", "mm1", "--replications", "2", "--duration", "10100ms",
		"--sweep", "client.arrivals.rate="+strings.Join(rates, ","), "--format", "md,json", "--out", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The files are written before the Markdown goes to stdout, which
	// nobody reads yet: bench blocks on the full pipe.
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "report.md")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no report.md after 60s; stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	printed, _ := io.ReadAll(stdout)
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	}
	file, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	// Go hands a signal to the program asynchronously (the runtime's
	// handler queues it, a goroutine cancels the context): on a loaded
	// machine bench may finish its last write before it sees the signal,
	// and then exits 0, its report whole. What must never happen is a
	// report cut short, or 143 (killed by the default action).
	if code != exitInterrupted && code != 0 || !bytes.Equal(printed, file) || len(file) < 100_000 {
		t.Errorf("exit code %d, %d bytes printed of a report of %d; want %d (or 0) and all of it; stderr: %s",
			code, len(printed), len(file), exitInterrupted, stderr.String())
	}
	if code == exitInterrupted && !strings.Contains(stderr.String(), "the report is whole") {
		t.Errorf("stderr %q does not say the report is whole", stderr.String())
	}
}

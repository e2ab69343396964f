package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

func versionCmd(args []string, stdout, _ io.Writer) error {
	pos, err := parseFlags("version", noFlags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("version takes no arguments")
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(bi))
	return nil
}

// versionLine says what a binary was built from: the module version
// ("(devel)" when built from a work tree) and the VCS settings the go
// command stamps (https://pkg.go.dev/runtime/debug#BuildSetting: vcs.revision,
// vcs.time, vcs.modified), and the Go version.
func versionLine(bi *debug.BuildInfo) string {
	if bi == nil {
		return "faultline (no build information)"
	}
	parts := []string{"faultline", bi.Main.Version}
	if bi.Main.Version == "" {
		parts[1] = "(unknown version)"
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		c := "commit " + rev
		if t := settings["vcs.time"]; t != "" {
			c += " (" + t + ")"
		}
		if settings["vcs.modified"] == "true" {
			c += ", modified"
		}
		parts = append(parts, c)
	}
	parts = append(parts, bi.GoVersion)
	return strings.Join(parts, " ")
}

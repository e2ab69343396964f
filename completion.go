package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline/faultline/scenarios"
)

// The completion scripts hand the words typed so far to the hidden
// command __complete and offer what it prints, one candidate a line: the
// command table decides, so a new command or flag completes without
// touching the scripts (the scheme of cobra's __complete).
var completionScripts = map[string]string{
	"bash": `# bash completion for faultline: source <(faultline completion bash)
_faultline() {
	local IFS=$'\n'
	COMPREPLY=($(faultline __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null))
	if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
		compopt -o nospace
	fi
}
complete -F _faultline faultline
`,
	"zsh": `#compdef faultline
# zsh completion for faultline: source <(faultline completion zsh)
_faultline() {
	local -a cands dirs
	cands=("${(@f)$(faultline __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
	cands=(${cands:#})
	dirs=(${(M)cands:#*/})
	compadd -Q -- ${cands:#*/}
	compadd -Q -S '' -- $dirs
}
compdef _faultline faultline
`,
	"fish": `# fish completion for faultline: faultline completion fish | source
complete -c faultline -f -a '(faultline __complete (commandline -opc)[2..-1] (commandline -ct))'
`,
}

func completionCmd(args []string, stdout, _ io.Writer) error {
	pos, err := parseFlags("completion", noFlags, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || completionScripts[pos[0]] == "" {
		return usageErr("completion takes one shell: bash, zsh or fish")
	}
	fmt.Fprint(stdout, completionScripts[pos[0]])
	return nil
}

// completeCmd prints the candidates for the last of args, the word being
// typed, given the words before it.
func completeCmd(args []string, stdout io.Writer) error {
	for _, c := range complete(args) {
		fmt.Fprintln(stdout, c)
	}
	return nil
}

func complete(args []string) []string {
	if len(args) == 0 {
		args = []string{""}
	}
	word, before := args[len(args)-1], args[:len(args)-1]
	if len(before) == 0 {
		var names []string
		for _, c := range commands() {
			if !strings.Contains(c.name, " ") {
				names = append(names, c.name)
			}
		}
		return withPrefix(names, word)
	}
	cmd, rest := findCommand(before)
	if cmd == nil {
		return nil
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	cmd.flags(fs)
	// The value of a flag: a file or directory for most, nothing to offer
	// for numbers and names.
	if n := len(rest); n > 0 && strings.HasPrefix(rest[n-1], "-") && !strings.Contains(rest[n-1], "=") {
		if f := fs.Lookup(strings.TrimLeft(rest[n-1], "-")); f != nil && !isBoolFlag(f) {
			arg, _ := flag.UnquoteUsage(f)
			if arg == "FILE" || arg == "DIR" {
				return files(word, func(string) bool { return arg == "FILE" })
			}
			return nil
		}
	}
	if strings.HasPrefix(word, "-") {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, "--"+f.Name) })
		return withPrefix(append(names, "--help"), word)
	}
	var out []string
	switch cmd.complete {
	case argScenario:
		for _, b := range scenarios.List() {
			out = append(out, b.Name)
		}
		out = withPrefix(out, word)
		out = append(out, files(word, func(name string) bool { return strings.HasSuffix(name, ".toml") })...)
		// A subcommand is a word in the place of the first argument.
		if len(rest) == 0 {
			for _, c := range commands() {
				if sub, ok := strings.CutPrefix(c.name, cmd.name+" "); ok && strings.HasPrefix(sub, word) {
					out = append(out, sub)
				}
			}
		}
	case argDir:
		out = files(word, func(string) bool { return false })
	case argCommand:
		for _, c := range commands() {
			out = append(out, c.name)
		}
		out = withPrefix(out, word)
	case argShell:
		out = withPrefix([]string{"bash", "fish", "zsh"}, word)
	}
	return out
}

func withPrefix(words []string, prefix string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, prefix) {
			out = append(out, w)
		}
	}
	return out
}

// files lists the directories (with a trailing /) and the files keep
// accepts whose path starts with prefix, as a shell would complete them.
func files(prefix string, keep func(name string) bool) []string {
	dir, base := filepath.Split(prefix)
	entries, err := os.ReadDir(cmp.Or(dir, "."))
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, base) || (strings.HasPrefix(name, ".") && !strings.HasPrefix(base, ".")) {
			continue
		}
		switch {
		case e.IsDir():
			out = append(out, dir+name+"/")
		case keep(name):
			out = append(out, dir+name)
		}
	}
	slices.Sort(out)
	return out
}

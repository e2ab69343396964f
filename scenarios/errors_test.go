package scenarios

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestErrorsGolden loads every file under testdata/errors and compares what
// a user would see, Render(false), with the .golden file beside it.
func TestErrorsGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test files in testdata/errors")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".toml"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			spec, err := Load(filepath.Base(file), data)
			var list ErrorList
			if !errors.As(err, &list) || spec != nil {
				t.Fatalf("Load = %v, %v; want no spec and an ErrorList", spec, err)
			}
			golden.Check(t, strings.TrimSuffix(file, ".toml")+".golden", list.Render(false), *update)
		})
	}
}

func TestRender(t *testing.T) {
	list := ErrorList{
		{File: "a.toml", Line: 14, Col: 1, Msg: `unknown key "servce_time" in [[service]] "payment"`,
			Hint: `did you mean "service_time"?`, Source: `servce_time = "10ms"`},
		{File: "a.toml", Line: 123456, Col: 3, Msg: "tabs", Source: "\tx\ty"},
		{File: "a.toml", Line: 2, Col: 9, Msg: "past the end, control characters", Source: "x\x1b[2Jé\xff"},
	}
	tests := []struct {
		name  string
		color bool
		want  string
	}{
		{"plain", false, `a.toml:14:1: unknown key "servce_time" in [[service]] "payment"
   14 | servce_time = "10ms"
      | ^
hint: did you mean "service_time"?
a.toml:123456:3: tabs
123456 | 	x	y
       | 	 ^
a.toml:2:9: past the end, control characters
    2 | x�[2Jé�
      |        ^
`},
		{"color", true, "\x1b[1ma.toml:14:1:\x1b[0m unknown key \"servce_time\" in [[service]] \"payment\"\n" +
			"   14 | servce_time = \"10ms\"\n" +
			"      | \x1b[1;31m^\x1b[0m\n" +
			"\x1b[36mhint:\x1b[0m did you mean \"service_time\"?\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := list
			if tt.color {
				l = list[:1]
			}
			if got := l.Render(tt.color); got != tt.want {
				t.Errorf("Render(%v) =\n%q\nwant\n%q", tt.color, got, tt.want)
			}
		})
	}
}

func TestErrorStrings(t *testing.T) {
	list := ErrorList{
		{File: "a.toml", Line: 1, Col: 2, Msg: "first", Hint: "not in Error()"},
		{File: "a.toml", Line: 3, Col: 4, Msg: "second"},
	}
	if got, want := list[0].Error(), "a.toml:1:2: first"; got != want {
		t.Errorf("Error.Error() = %q, want %q", got, want)
	}
	if got, want := list.Error(), "a.toml:1:2: first\na.toml:3:4: second"; got != want {
		t.Errorf("ErrorList.Error() = %q, want %q", got, want)
	}
}

// TestSyntaxHints checks that the syntax errors a first scenario makes
// carry a hint that says what to write instead, as every other error of
// the loader does; they used to carry none.
func TestSyntaxHints(t *testing.T) {
	for _, tc := range []struct {
		name, src, hint string
	}{
		{"duration without quotes", "[scenario]\nduration = 10s\n", `duration = "10s"`},
		{"duration with a blank", "[scenario]\nwarmup = 5 s\n", `warmup = "5s"`},
		{"name without quotes", "[scenario]\nname = checkout\n", `name = "checkout"`},
		{"thousands separator", "[scenario]\nseed = 1,000\n", "write 1000"},
		{"quote inside a string", "[scenario]\ndescription = \"a \"b\" c\"\n", `\"`},
		{"string not closed", "[scenario]\nname = \"checkout\nduration = \"1s\"\n", "end the string with a double quote"},
		{"key given twice", "[scenario]\nname = \"a\"\nname = \"b\"\n", "a key is set once in a table"},
		{"colon for equals", "[scenario]\nname: \"a\"\n", "joined by =, not a colon"},
		{"header not closed", "[[service]\nname = \"a\"\n", "a header is [name]"},
		{"array not closed", "[scenario]\nx = [1, 2\n", "close the array with ]"},
		{"UTF-16", "\xff\xfe[\x00s\x00]\x00\n\x00", "save the file as UTF-8"},
		{"nested header first", "[scenario]\nduration = \"1s\"\n[[gateway.route]]\n[[gateway]]\n", "made gateway a plain table"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("a.toml", []byte(tc.src))
			var list ErrorList
			if !errors.As(err, &list) || len(list) != 1 || !strings.HasPrefix(list[0].Msg, "syntax error") {
				t.Fatalf("Load = %v; want one syntax error", err)
			}
			if !strings.Contains(list[0].Hint, tc.hint) {
				t.Errorf("%s: hint %q, want one with %q", list[0].Msg, list[0].Hint, tc.hint)
			}
		})
	}
}

package scenarios

import (
	"fmt"
	"testing"
)

// indexSource exercises what the scanner must step over without losing
// count: comments, multi-line strings and arrays holding brackets, '=' and
// '#', quoted and dotted keys, nested arrays of tables, inline tables.
const indexSource = `# [[service]] in a comment
[scenario] # trailing comment
duration = "60s"
description = """
[[service]]
name = "not a key" """
"quoted key" = 1
a.b . c = 2
'lit.key' = '''x = [
'''

[[service]]
name = "s0"
  [[service.call]]
  to = "x"
  [[service.call]]
  to = "y"
  tags = [
    "]", # ]
    [1, 2],
  ]

[[service]]
name = "s1"
  [[service.call]]
  timeout = "1s"
[service.extra]
k = 1979-05-27 07:32:00Z
call2 = [{ to = "z", latency = { x = 1 } }, { to = "w" }]
inline = { a = "}", b = [1, { c = 2 }] }
`

func TestIndexFind(t *testing.T) {
	ix := newIndex(indexSource)
	ix.scan()
	tests := []struct {
		path     string
		key, val string // line:col
	}{
		{"scenario", "2:2", "2:1"},
		{"scenario.duration", "3:1", "3:12"},
		{"scenario.description", "4:1", "4:15"},
		{`scenario."quoted key"`, "7:1", "7:16"},
		{"scenario.a", "8:1", "8:1"},
		{"scenario.a.b.c", "8:7", "8:11"},
		{`scenario."lit.key"`, "9:1", "9:13"},
		{"service", "12:3", "12:1"},
		{"service[0]", "12:3", "12:1"},
		{"service[0].name", "13:1", "13:8"},
		{"service[0].call[0]", "14:13", "14:3"},
		{"service[0].call[0].to", "15:3", "15:8"},
		{"service[0].call[1].to", "17:3", "17:8"},
		{"service[0].call[1].tags[1]", "20:5", "20:5"},
		{"service[0].call[1].tags[1][1]", "20:9", "20:9"},
		{"service[1].name", "24:1", "24:8"},
		{"service[1].call[0].timeout", "26:3", "26:13"},
		{"service[1].extra", "27:10", "27:1"},
		{"service[1].extra.k", "28:1", "28:5"},
		{"service[1].extra.call2[0].to", "29:12", "29:17"},
		{"service[1].extra.call2[0].latency.x", "29:34", "29:38"},
		{"service[1].extra.call2[1].to", "29:47", "29:52"},
		{"service[1].extra.inline.b[1].c", "30:31", "30:35"},
		// Paths the scanner never saw fall back to their nearest ancestor.
		{"service[1].call[0].nope", "25:13", "25:3"},
		{"nope", "1:1", "1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			sp := ix.find(tt.path)
			kl, kc := ix.lineCol(sp.key)
			vl, vc := ix.lineCol(sp.val)
			if got := fmt.Sprintf("%d:%d", kl, kc); got != tt.key {
				t.Errorf("key at %s, want %s", got, tt.key)
			}
			if got := fmt.Sprintf("%d:%d", vl, vc); got != tt.val {
				t.Errorf("value at %s, want %s", got, tt.val)
			}
		})
	}
}

func TestParent(t *testing.T) {
	tests := []struct{ path, want string }{
		{"a.b[2].c", "a.b[2]"},
		{"a.b[2]", "a.b"},
		{`a."x.y[1]"`, "a"},
		{`a."q\"[".b`, `a."q\"["`},
		{"a", ""},
	}
	for _, tt := range tests {
		if got := parent(tt.path); got != tt.want {
			t.Errorf("parent(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestStringByte(t *testing.T) {
	tests := []struct {
		name string
		src  string // the literal starts at offset 0
		n    int    // byte of the value
		want int    // offset in src
	}{
		{"basic", `"abcdef"`, 3, 4},
		{"end", `"abc"`, 3, 4},
		{"escapes", `"\t\u00e9\U0001F600x"`, 1 + 2 + 4, 19},
		{"hex escape", `"\x41b"`, 1, 5},
		{"literal", `'a\tb'`, 3, 4},
		{"multi-line", "\"\"\"\nab\ncd\"\"\"", 3, 7},
		{"multi-line crlf", "'''\r\nab'''", 1, 6},
		{"line-ending backslash", "\"\"\"ab\\  \n   cd\"\"\"", 3, 13},
		{"not a string", `123`, 2, 0},
		{"past the end", `"ab`, 10, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stringByte(tt.src, 0, tt.n); got != tt.want {
				t.Errorf("stringByte(%q, 0, %d) = %d, want %d", tt.src, tt.n, got, tt.want)
			}
		})
	}
}

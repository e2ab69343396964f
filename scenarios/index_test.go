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
	tests := []position{
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
	checkPositions(t, ix, tests)
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

// subTableSource has the sub-tables of array elements that the resilience
// keys use, as headers, dotted keys and inline tables, after and between
// the array elements they belong to.
const subTableSource = `[[service]]
name = "a"
  [[service.call]]
  to = "b"
  [service.call.retry]
  max_attempts = 3
  retry_on = ["error", "shed"]
  [service.call.retry.budget]
  percent = 0.1
  [service.call.circuit_breaker]
  [[service.call]]
  to = "c"
  retry = { max_attempts = 2, budget = { ttl = "5s" }, throttle = {} }
  hedge.delay = "10ms"
[service.autoscale]
max = 3

[[service]]
name = "b"
  [[service.call]]
  to = "c"
  [service.call.outlier_detection]
  interval = "1s"
[service.autoscale]
max = 4

[[gateway]]
name = "g"
  [[gateway.route]]
  path = "/x"
  [gateway.route.circuit_breaker]
  scope = "instance"
  [[gateway.route]]
  path = "/y"
  [gateway.route.retry.throttle]
  max_tokens = 5
[gateway.autoscale]
max = 2

[[fault]]
kind = "partition"
between = [["a"], ["b", "c"]]
`

func TestIndexSubTables(t *testing.T) {
	ix := newIndex(subTableSource)
	ix.scan()
	tests := []position{
		{"service[0].call[0].retry", "5:17", "5:3"},
		{"service[0].call[0].retry.max_attempts", "6:3", "6:18"},
		{"service[0].call[0].retry.retry_on[1]", "7:24", "7:24"},
		{"service[0].call[0].retry.budget", "8:23", "8:3"},
		{"service[0].call[0].retry.budget.percent", "9:3", "9:13"},
		{"service[0].call[0].circuit_breaker", "10:17", "10:3"},
		{"service[0].call[1].to", "12:3", "12:8"},
		{"service[0].call[1].retry", "13:3", "13:11"},
		{"service[0].call[1].retry.max_attempts", "13:13", "13:28"},
		{"service[0].call[1].retry.budget.ttl", "13:42", "13:48"},
		{"service[0].call[1].retry.throttle", "13:56", "13:67"},
		{"service[0].call[1].hedge", "14:3", "14:3"},
		{"service[0].call[1].hedge.delay", "14:9", "14:17"},
		{"service[0].autoscale", "15:10", "15:1"},
		{"service[0].autoscale.max", "16:1", "16:7"},
		{"service[1].call[0].outlier_detection", "22:17", "22:3"},
		{"service[1].call[0].outlier_detection.interval", "23:3", "23:14"},
		{"service[1].autoscale.max", "25:1", "25:7"},
		{"gateway[0].route[0].circuit_breaker", "31:18", "31:3"},
		{"gateway[0].route[0].circuit_breaker.scope", "32:3", "32:11"},
		{"gateway[0].route[1].path", "34:3", "34:10"},
		{"gateway[0].route[1].retry", "35:18", "35:3"},
		{"gateway[0].route[1].retry.throttle", "35:24", "35:3"},
		{"gateway[0].route[1].retry.throttle.max_tokens", "36:3", "36:16"},
		{"gateway[0].autoscale.max", "38:1", "38:7"},
		{"fault[0].between[1][1]", "42:25", "42:25"},
		// A key the scanner never saw in a sub-table falls back to the
		// sub-table, not to the element that holds it.
		{"service[0].call[0].retry.budget.nope", "8:23", "8:3"},
		{"service[0].call[1].retry.throttle.nope", "13:56", "13:67"},
	}
	checkPositions(t, ix, tests)
}

// position is where the index should place a path's key and value.
type position struct {
	path     string
	key, val string // line:col
}

func checkPositions(t *testing.T, ix *index, tests []position) {
	t.Helper()
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

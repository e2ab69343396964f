package importer

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteTOML writes the model as a commented scenario file.
func (m *Model) WriteTOML(w io.Writer) error {
	b := bufio.NewWriter(w)
	for _, h := range m.Header {
		comment(b, "", h)
	}
	b.WriteString(m.Preamble)
	fmt.Fprintf(b, "\n[scenario]\nname = %s\n", quote(m.Name))
	if m.Description != "" {
		fmt.Fprintf(b, "description = %s\n", quote(m.Description))
	}
	fmt.Fprintf(b, "duration = %s\nwarmup = %s\n", quote(durString(m.Duration)), quote(durString(m.Warmup)))
	for _, c := range m.Clients {
		b.WriteString("\n")
		for _, line := range c.Comments {
			comment(b, "", line)
		}
		fmt.Fprintf(b, "[[client]]\nname = %s\ntarget = %s\nrate = %s\n", quote(c.Name), quote(c.Target), fmtNum(c.Rate))
		keys(b, "", c.Extra)
	}
	for _, s := range m.Services {
		b.WriteString("\n")
		for _, line := range s.Comments {
			comment(b, "", line)
		}
		switch {
		case s.InstancesNote == "":
		case s.InstancesAssumed:
			comment(b, "", "ASSUMED: "+s.InstancesNote)
		default:
			comment(b, "", s.InstancesNote)
		}
		for _, line := range s.Assumptions {
			comment(b, "", "ASSUMED: "+line)
		}
		fmt.Fprintf(b, "[[service]]\nname = %s\n", quote(s.Name))
		if s.Instances > 0 {
			fmt.Fprintf(b, "instances = %d\n", s.Instances)
		}
		fmt.Fprintf(b, "workers = %d\n", s.Workers)
		if s.ConcurrencyModel != "" {
			fmt.Fprintf(b, "concurrency_model = %s\n", quote(s.ConcurrencyModel))
		}
		keys(b, "", s.Extra)
		b.WriteString(s.Text)
		for _, op := range s.Operations {
			b.WriteString("\n")
			for _, line := range op.Comments {
				comment(b, "  ", line)
			}
			fmt.Fprintf(b, "  [[service.operation]]\n  name = %s\n  service_time = %s\n", quote(op.Name), quote(op.ServiceTime))
			if op.Errors > 0 {
				fmt.Fprintf(b, "  errors = %s\n", strconv.FormatFloat(op.Errors, 'f', -1, 64))
			}
			if op.AfterCalls > 0 {
				fmt.Fprintf(b, "  after_calls = %s   # the share of its own time after its last call\n", strconv.FormatFloat(op.AfterCalls, 'f', -1, 64))
			}
			keys(b, "  ", op.Extra)
			for _, c := range op.Calls {
				b.WriteString("\n")
				for _, line := range c.Comments {
					comment(b, "    ", line)
				}
				fmt.Fprintf(b, "    [[service.operation.call]]\n    to = %s\n", quote(c.To))
				if c.Probability < 1 {
					fmt.Fprintf(b, "    probability = %s\n", strconv.FormatFloat(c.Probability, 'f', -1, 64))
				}
				if c.Fanout > 1 {
					fmt.Fprintf(b, "    fanout = %d\n", c.Fanout)
				}
				if c.Repeat != "" {
					fmt.Fprintf(b, "    repeat = %s\n", c.Repeat)
				}
				if c.Group != "" {
					fmt.Fprintf(b, "    group = %s   # issued at once with the calls of the same group\n", quote(c.Group))
				}
				if c.Latency != "" {
					fmt.Fprintf(b, "    latency = %s\n", quote(c.Latency))
				}
				if c.RoundTrip != "" {
					fmt.Fprintf(b, "    round_trip = %s\n", quote(c.RoundTrip))
				}
				keys(b, "    ", c.Extra)
				b.WriteString(c.Text)
			}
		}
	}
	b.WriteString(m.Trailer)
	return b.Flush()
}

func keys(b *bufio.Writer, indent string, ks []Key) {
	for _, k := range ks {
		fmt.Fprintf(b, "%s%s = %s", indent, k.Name, k.Value)
		if k.Comment != "" {
			fmt.Fprintf(b, "   # %s", oneLine(k.Comment))
		}
		b.WriteString("\n")
	}
}

// comment writes a comment, wrapped at about 80 columns.
func comment(b *bufio.Writer, indent, text string) {
	if text == "" {
		b.WriteString(indent + "#\n")
		return
	}
	line := indent + "#"
	for _, word := range strings.Fields(oneLine(text)) {
		if len(line)+1+len(word) > 80 && len(line) > len(indent)+2 {
			b.WriteString(line + "\n")
			line = indent + "#  "
		}
		line += " " + word
	}
	b.WriteString(line + "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// quote writes a TOML basic string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func durString(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

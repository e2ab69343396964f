package main

import (
	"encoding"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/faultline/faultline/sim"
)

func schemaCmd(args []string, stdout, _ io.Writer) error {
	pos, err := parseFlags("schema", noFlags, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErr("schema takes no arguments")
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(runSchema())
}

// runSchema is the JSON Schema (draft 2020-12,
// https://json-schema.org/draft/2020-12/json-schema-core) of what
// 'run --json' writes, generated from sim.Result by reflection with the
// rules of encoding/json (https://pkg.go.dev/encoding/json#Marshal), so
// that it cannot drift from the output: a field is required unless it is
// omitempty; a nil slice is null; a pointer is its value or null (null
// means "none": not recovered, never reached, still lasting).
func runSchema() map[string]any {
	s := schemaOf(reflect.TypeFor[sim.Result]())
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = "faultline run --json"
	s["description"] = "The result of one run: totals per client, component, edge and data component, " +
		"their per-window series (omitted with --series=false), fault cascades and the event log. " +
		"Units are in the key names (_s seconds, _ms milliseconds, _rps per second); shares are 0..1. See scenarios.md."
	return s
}

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
	windowsType       = reflect.TypeFor[[]sim.Window]()
)

// windowSchema is the schema of a series' windows: the fields of the kind
// its tag names (sim.SeriesKind.JSONShape) after the window's start, t_s
// (sim.Window.MarshalJSON).
func windowSchema(f reflect.StructField) map[string]any {
	for k := sim.SeriesKind(0); k.String() != "unknown"; k++ {
		if k.String() != f.Tag.Get("series") {
			continue
		}
		s := structSchema(reflect.TypeOf(k.JSONShape()))
		s["properties"].(map[string]any)["t_s"] = map[string]any{"type": "number", "description": "the window's start, s"}
		s["required"] = append([]any{"t_s"}, s["required"].([]any)...)
		return s
	}
	panic(fmt.Sprintf("schema: %s is a series without a kind (its series tag)", f.Name))
}

func schemaOf(t reflect.Type) map[string]any {
	if t.Kind() != reflect.Pointer && t.Implements(textMarshalerType) && !t.Implements(marshalerType) {
		// An enumeration written by its name (sim.Health, sim.EventKind...).
		return map[string]any{"type": "string"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(schemaOf(t.Elem()))
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer", "minimum": 0}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Slice:
		return nullable(map[string]any{"type": "array", "items": schemaOf(t.Elem())})
	case reflect.Struct:
		return structSchema(t)
	}
	panic(fmt.Sprintf("schema: no rule for %s (%s)", t, t.Kind())) // a new kind of field in sim.Result: teach schemaOf
}

// nullable lets a schema's value be null too.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		s["type"] = []any{typ, "null"}
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// shaper is a result type with its own MarshalJSON that says which type
// describes what it writes.
type shaper interface{ JSONShape() any }

func structSchema(t reflect.Type) map[string]any {
	if s, ok := reflect.Zero(t).Interface().(shaper); ok {
		return structSchema(reflect.TypeOf(s.JSONShape()))
	}
	if t.Implements(marshalerType) {
		panic(fmt.Sprintf("schema: %s has its own MarshalJSON and no JSONShape", t))
	}
	props := map[string]any{}
	required := []any{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			in := structSchema(f.Type)
			for k, v := range in["properties"].(map[string]any) {
				props[k] = v
			}
			required = append(required, in["required"].([]any)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		if f.Type == windowsType {
			props[name] = nullable(map[string]any{"type": "array", "items": windowSchema(f)})
		} else {
			props[name] = schemaOf(f.Type)
		}
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
	}
	return map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false}
}

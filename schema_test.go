package main

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/scenarios"
)

// validate checks v (as encoding/json decodes into any) against the
// subset of JSON Schema runSchema emits: type (one or a list), properties,
// required, additionalProperties false, items, anyOf, minimum. It returns
// every violation, each with its JSON path.
func validate(schema map[string]any, v any, path string) []string {
	if alts, ok := schema["anyOf"].([]any); ok {
		for _, a := range alts {
			if len(validate(a.(map[string]any), v, path)) == 0 {
				return nil
			}
		}
		return []string{fmt.Sprintf("%s: %v matches no alternative", path, v)}
	}
	var types []any
	switch t := schema["type"].(type) {
	case string:
		types = []any{t}
	case []any:
		types = t
	}
	kind := "null"
	switch x := v.(type) {
	case bool:
		kind = "boolean"
	case float64:
		kind = "number"
		if x == math.Trunc(x) && slices.Contains(types, any("integer")) {
			kind = "integer"
		}
	case string:
		kind = "string"
	case []any:
		kind = "array"
	case map[string]any:
		kind = "object"
	}
	if !slices.Contains(types, any(kind)) && !(kind == "integer" && slices.Contains(types, any("number"))) {
		return []string{fmt.Sprintf("%s: %s, want %v", path, kind, types)}
	}
	var errs []string
	if m, ok := schema["minimum"].(float64); ok && kind == "integer" && v.(float64) < m {
		errs = append(errs, fmt.Sprintf("%s: %v below %v", path, v, m))
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			errs = append(errs, validate(schema["items"].(map[string]any), e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for _, r := range schema["required"].([]any) {
			if _, ok := x[r.(string)]; !ok {
				errs = append(errs, fmt.Sprintf("%s: %s missing", path, r))
			}
		}
		for k, e := range x {
			p, ok := props[k]
			if !ok {
				if schema["additionalProperties"] == false {
					errs = append(errs, fmt.Sprintf("%s: %s is not in the schema", path, k))
				}
				continue
			}
			errs = append(errs, validate(p.(map[string]any), e, path+"."+k)...)
		}
	}
	return errs
}

// TestSchemaValidatesBuiltins: the schema 'faultline schema' prints
// validates the --json output of every built-in scenario, with and
// without series, and rejects what it must.
func TestSchemaValidatesBuiltins(t *testing.T) {
	code, out, errs := faultline("schema")
	if code != 0 {
		t.Fatalf("schema: exit %d: %s", code, errs)
	}
	var schema map[string]any
	if err := json.Unmarshal([]byte(out), &schema); err != nil {
		t.Fatal(err)
	}
	for _, b := range scenarios.List() {
		for _, series := range []string{"true", "false"} {
			t.Run(b.Name+"/series="+series, func(t *testing.T) {
				code, js, errs := faultline("run", b.Name, "--json", "--series="+series)
				if code != 0 && code != 3 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				var v any
				if err := json.Unmarshal([]byte(js), &v); err != nil {
					t.Fatal(err)
				}
				if bad := validate(schema, v, "$"); len(bad) > 0 {
					t.Errorf("%d violations, the first: %s", len(bad), strings.Join(bad[:min(5, len(bad))], "; "))
				}
			})
		}
	}
	// The validator is not vacuous.
	for _, doc := range []string{`{}`, `{"scenario": 1}`, `[]`} {
		var v any
		json.Unmarshal([]byte(doc), &v)
		if len(validate(schema, v, "$")) == 0 {
			t.Errorf("%s passes the schema", doc)
		}
	}
}

// TestJSONNoSentinels: what did not happen (not recovered, no flow hit,
// a fault lasting to the end, a t-visibility never reached) is null in
// --json, never -1, which a script would read as a time.
func TestJSONNoSentinels(t *testing.T) {
	nulls := 0
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case float64:
			if x == -1 {
				t.Errorf("%s is -1", key)
			}
		case nil:
			nulls++
		case []any:
			for _, e := range x {
				walk(key, e)
			}
		case map[string]any:
			for k, e := range x {
				walk(key+"."+k, e)
			}
		}
	}
	for _, name := range []string{"retry-storm", "order-saga", "metastable-retries", "gateway-spof", "kafka-consumer-crash"} {
		_, js, _ := faultline("run", name, "--json", "--series=false")
		var v any
		if err := json.Unmarshal([]byte(js), &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walk(name, v)
	}
	if nulls == 0 {
		t.Error("no null anywhere: the cases above have faults that never end or flows that never recover")
	}
}

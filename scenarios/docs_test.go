package scenarios

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const docsFile = "../scenarios.md"

// docBlock is a fenced ```toml block of the reference.
type docBlock struct {
	line int // of the opening fence in scenarios.md
	text string
}

func docBlocks(t *testing.T) []docBlock {
	t.Helper()
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []docBlock
	var cur *docBlock
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```toml":
			cur = &docBlock{line: n}
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.text += line + "\n"
		}
	}
	if cur != nil {
		t.Fatalf("%s:%d: unterminated ```toml block", docsFile, cur.line)
	}
	return blocks
}

// TestDocsExamples loads every TOML example of the reference: a complete
// scenario must load without error, a block that starts with "# fragment"
// must at least be valid TOML.
func TestDocsExamples(t *testing.T) {
	blocks := docBlocks(t)
	complete := 0
	for _, b := range blocks {
		name := fmt.Sprintf("scenarios.md:%d", b.line)
		if strings.HasPrefix(b.text, "# fragment\n") {
			var v map[string]any
			if _, err := toml.Decode(b.text, &v); err != nil {
				t.Errorf("%s: the fragment is not valid TOML: %v", name, err)
			}
			continue
		}
		complete++
		// Padding the block to its place in the file makes the errors
		// point at lines of scenarios.md.
		src := strings.Repeat("\n", b.line) + b.text
		if _, err := Load("scenarios.md", []byte(src)); err != nil {
			if list, ok := err.(ErrorList); ok {
				t.Errorf("%s: the example does not load:\n%s", name, list.Render(false))
			} else {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
	if complete < 2 {
		t.Errorf("found %d complete examples in %s, want the first one and the worked example", complete, docsFile)
	}
}

// TestDocsCoverKeys checks that the reference documents every key the
// loader knows, so the two cannot drift apart silently.
func TestDocsCoverKeys(t *testing.T) {
	data, err := os.ReadFile(docsFile)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	lists := [][]string{
		scenarioKeys, networkKeys, clientKeys, stepKeys, serviceKeys, operationKeys, callKeys, gatewayKeys, routeKeys, extAuthzKeys, backendKeys,
		outlierKeys, breakerKeys, retryKeys, retryBudgetKeys, budgetKeys, throttleKeys, hedgeKeys, autoscaleKeys, faultKeys,
		arrivals, faultKinds, balancers, windowTypes, scopes, backoffs, jitters, disciplines, concurrency, retryOutcome, directions,
		brokerKeys, topicKeys, publishKeys, consumeKeys, storeKeys, sagaKeys, sagaStepKeys, viewKeys,
		ops, callKeyChoices, publishKeyChoices, acksValues, whens, commitModes, sagaModes, keyDistributions,
		variantKeys, sloKeys(), sloMetrics(),
	}
	// Keys that hold a table are documented by a section of their own.
	tables := map[string]bool{"schedule": true, "operation": true, "call": true, "outlier_detection": true, "circuit_breaker": true,
		"retry": true, "budget": true, "retry_budget": true, "throttle": true, "hedge": true, "autoscale": true,
		"publish": true, "consume": true, "step": true}
	for _, keys := range lists {
		for _, k := range keys {
			if tables[k] {
				continue
			}
			if !strings.Contains(doc, "`"+k+"`") && !strings.Contains(doc, `"`+k+`"`) {
				t.Errorf("%s does not mention %q", docsFile, k)
			}
		}
	}
	for _, table := range topTables {
		if !strings.Contains(doc, "## "+header(table)) {
			t.Errorf("%s has no section for %s", docsFile, header(table))
		}
	}
	for _, section := range []string{
		"[[client.schedule]]", "[[service.operation]]", "[[service.operation.call]]", "[[service.call]]", "[[gateway.route]]", "[gateway.ext_authz]", "[[gateway.route.backend]]", "[service.autoscale]",
		"[service.call.outlier_detection]", "[service.call.circuit_breaker]", "[service.call.retry]",
		"[service.call.retry.budget]", "[service.call.retry.retry_budget]", "[service.call.retry.throttle]", "[service.call.hedge]",
		"[[service.publish]]", "[[service.consume]]", "[[broker.topic]]", "[[saga.step]]",
	} {
		if !strings.Contains(doc, "### "+section) {
			t.Errorf("%s has no section for %s", docsFile, section)
		}
	}
	for _, b := range List() {
		if !strings.Contains(doc, "`"+b.Name+"`") {
			t.Errorf("%s does not mention the built-in scenario %q", docsFile, b.Name)
		}
	}
}

package importer_test

import (
	"fmt"

	"github.com/faultline/faultline/importer"
)

func ExampleImport() {
	m, err := importer.Import([]string{"testdata/tiny.jaeger.json"}, importer.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range m.Clients {
		fmt.Printf("client %s -> %s at %g/s\n", c.Name, c.Target, c.Rate)
	}
	for _, s := range m.Services {
		for _, op := range s.Operations {
			fmt.Printf("%s.%s (%d spans)\n", s.Name, op.Name, op.Count)
			for _, c := range op.Calls {
				fmt.Printf("  -> %s probability %g group %q\n", c.To, c.Probability, c.Group)
			}
		}
	}
	// Output:
	// client load-api-get-checkout -> api.get-checkout at 1/s
	// api.get-checkout (2 spans)
	//   -> pay.charge probability 1 group "g1"
	//   -> stock.reserve probability 0.5 group "g1"
	// pay.charge (2 spans)
	// stock.reserve (1 spans)
}

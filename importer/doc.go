// Package importer builds a scenario from the traces a system recorded:
// Jaeger JSON (the query API's and the UI's export), OTLP JSON (as the
// OpenTelemetry Collector's file exporter writes it), Zipkin v2 JSON, and
// span tables in CSV, gzip or not.
//
// Import reads the files in two passes (the first counts each trace's
// spans, the second folds each trace as soon as its last span is read), so
// its memory grows with the traces in progress, not with the file. It
// returns a Model: the services (pod names less their controller's
// suffix), their operations, the calls between operations with their
// probabilities, repeats and groups of parallel calls, each operation's
// own time (its span less the time covered by its calls) as a
// percentiles() distribution, own error shares, one-way network times
// where client and server spans both exist, and the entry operations'
// rates. What traces cannot show (worker pools, queue limits) is chosen
// and marked as assumed.
//
// A later step may amend the Model (the manifests of the same system:
// replicas, timeouts, retries) before WriteTOML writes it:
//
//	m, err := importer.Import([]string{"traces.json.gz"}, importer.Options{Sampled: 0.3})
//	if err != nil {
//		return err // a *FileError for a broken, empty or unknown file
//	}
//	m.Services[0].Extra = append(m.Services[0].Extra, importer.Key{Name: "queue", Value: "100"})
//	err = m.WriteTOML(os.Stdout)
//
// The rules are documented in scenarios.md, "Importing traces".
package importer

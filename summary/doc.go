// Package summary renders a run's sim.Result for people and spreadsheets:
// the text summary 'faultline run' prints (Write) and the per-window time
// series of --csv (WriteCSV). It is a reader of the engine's typed result:
// windows' health and reasons, each component's health over the run (a
// table row's colour), cascades and events come from package sim, numbers
// are formatted by internal/format, and nothing here parses text the
// engine wrote.
//
//	res := s.Run()
//	summary.Write(os.Stdout, res, summary.Options{Color: isTerminal})
//	err := summary.WriteCSV(f, res)
//
// The output is a function of the result alone: the same scenario and seed
// give the same bytes (the root package's run_*.golden files pin it).
//
// Files: text.go the summary's layout (tables, breaker timeline, cascade,
// event log), text_data.go the tables of the data components (topics,
// groups, stores, sagas, views), csv.go the CSV series, format.go the
// number formats.
package summary

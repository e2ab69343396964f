// Package scenarios loads scenario files, TOML descriptions of a system and
// its faults, into a validated sim.Spec, and holds the library of built-in
// scenarios. The language is described in scenarios.md at the root of the
// repository.
//
// A driver resolves what the user typed, loads it, and shows every problem
// of the file at once:
//
//	name, data, err := scenarios.Open(arg) // "mm1", or a path
//	if err != nil {
//		return err
//	}
//	spec, err := scenarios.Load(name, data)
//	var list scenarios.ErrorList
//	if errors.As(err, &list) {
//		fmt.Fprint(os.Stderr, list.Render(isTerminal))
//		return err
//	}
//	s, err := sim.New(spec, spec.Seed)
//
// Each Error carries the file, line and column, the offending line, and a
// hint where there is one; Render draws them like a compiler does:
//
//	checkout.toml:14:1: unknown key "servce_time" in [[service]] "payment"
//	   14 | servce_time = "10ms"
//	      | ^
//	hint: did you mean "service_time"?
//
// Load never panics, whatever the input.
package scenarios

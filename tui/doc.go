// Package tui is faultline's interactive terminal UI (tview and tcell/v2):
// a person watches a scenario run in virtual time, pauses it, injects
// faults by hand, and sees what failed first and what followed.
//
// It is a driver of package sim, like the code that drives etcd's
// raft.RawNode, and k9s's split between a model and its views:
//
//	spec, _ := scenarios.Load(name, data)
//	err := tui.Run(tui.Options{Name: spec.Name, Spec: spec, Seed: spec.Seed, Speed: 10})
//
// or from the command line: faultline tui checkout --speed 10.
//
// # Two goroutines
//
// The engine goroutine owns the *sim.Sim. It advances the run in slices of
// virtual time (RunUntil(now+slice)) paced against the wall clock at the
// chosen speed (1x: virtual time follows the wall clock; 10x; 100x; max: as
// fast as the engine goes, in bounded bursts), and carries out commands
// (pause, speed, step, inject, restart, goto) that arrive on a channel. At
// most every 50 ms, when something changed, it packs an immutable Frame (a
// snapshot of the run plus the driver's state) and hands it to the UI with
// Application.QueueUpdateDraw; while the UI has not applied the previous
// frame yet, an atomic flag makes it drop the new one instead of queueing
// it. The UI goroutine (tview's event loop) applies frames, dispatches keys
// and draws. Neither ever waits for the other: commands are sent without
// blocking, and frames are dropped rather than queued.
//
// Tests drive the same UI inline, with no goroutine and no clock: each
// command runs on the engine at once and its frame is applied before the
// key returns, so a screen after ":goto 45s" is the same on every run.
//
// # Keys
//
// One registry (keys.go: key, description, handler, context) drives
// dispatch, the header's hint line and the ? overlay. space pauses, + and -
// change the speed, . steps one window while paused, r restarts with the
// same seed and R with a new one, : opens the command line (:fault, :goto,
// :seed, :speed, :q), / filters the table, t toggles the topology view, Tab
// moves the focus between the table and the event log, ↑↓ or j k select or
// scroll, N T E P U O sort the table (name, rate, error %, p99,
// utilisation, scenario order), Esc closes and cancels, q quits.
//
// # Screen
//
// A header, the component table (every component of the scenario: clients,
// flows, services, brokers, topics, groups, stores, sagas, views; health
// from the engine's latest window, open breakers), a detail pane for the
// selected component (sparklines over the last 60 windows with the engine's
// fault spans marked; "why", the main origins of its failures in the last
// window from the engine's Window.Provenance (why.go); the latency of its calls;
// and the Hystrix row of each breaker it is on: every edge, one a row, and
// on a small screen two rows, the last naming the edges left), the topology (a layered
// drawing from clients to leaves), the consistency pane
// (consumer lag, store staleness, sagas, projection lag: only when the
// scenario has such components; an unhealthy group, saga or view says why, the
// main origin in its latest window's provenance), the event log with the engine's
// metastability verdict on the latest fault, and a status line. Below 80x24
// a message replaces the layout. NO_COLOR drops every colour and spells
// health with markers: ✓ healthy, ~ degraded, ✗ failing.
//
// A component's colour is the engine's health of its latest window
// (sim.Health on the series of sim.Result), and an edge's the engine's
// verdict on the edge's latest window (its breakers, error share,
// fallbacks, latency: sim/health.go's judgeEdge), which its label names.
// Edges are matched by who calls what (sim.EdgeID), never by their names;
// a Hystrix row's counts are the edge's windows over the last 10 s (the
// engine's windows are Hystrix's buckets), and the help's health legend
// prints the thresholds the engine judges with (sim.DegradedShare,
// sim.FailingShare).
//
// # Files
//
// app.go runs a session; engine.go is the engine goroutine and the Frame;
// ui.go the UI state and key dispatch; keys.go the key registry, command.go
// the : commands and complete.go their completion; model.go the table's
// rows; draw.go the layout and panes, canvas.go clipped drawing, theme.go
// the colours; topology.go, consistency.go and recovery.go their panes.
//
// # Adding a panel
//
// drawBody in draw.go places the panes, in three layouts (topology only,
// large, small). A new pane reads its data from the Frame's snapshot, as
// the detail and consistency panes do, gets a height from drawBody, and
// draws through a canvas; a golden screen in testdata pins it.
package tui

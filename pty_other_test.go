//go:build !linux

package main

import (
	"errors"
	"os"
)

// openPTY is Linux's only (pty_linux_test.go); the TUI's signal test
// skips elsewhere.
func openPTY() (master, slave *os.File, err error) {
	return nil, nil, errors.New("no pseudo-terminal helper on this system")
}

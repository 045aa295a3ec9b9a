//go:build !linux

package historytest

import "os/exec"

// serverProc: elsewhere the tests run the server as the current user, and
// Stop (or the test's cleanup) is what stops it.
func serverProc(*exec.Cmd, int, int) {}

//go:build !unix

package history

import "os/exec"

// runAs is unix only; elsewhere tests are not run as root.
func runAs(*exec.Cmd, int, int) {}

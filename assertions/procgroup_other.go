//go:build !unix

package assertions

import "os/exec"

// Without process groups the context kills only the command itself.
func setProcessGroup(*exec.Cmd) {}

func killGroup(*exec.Cmd) {}

//go:build unix

package assertions

import (
	"os/exec"
	"syscall"
)

// setProcessGroup puts the command in its own process group so a timeout
// kills it together with anything it started.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

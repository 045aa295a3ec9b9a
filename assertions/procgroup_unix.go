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

// killGroup ends whatever the command left running in its group once it
// has exited: a judge that forks `sleep 60 &` must not leave it behind.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

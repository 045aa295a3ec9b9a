package historytest

import (
	"os/exec"
	"syscall"
)

// serverProc makes cmd run as uid:gid when they are set (the caller is
// root), and makes the kernel stop the server (SIGQUIT: immediate
// shutdown) if the test binary dies without stopping it: a panic or a
// -timeout must not leave a server behind.
func serverProc(cmd *exec.Cmd, uid, gid int) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGQUIT}
	if uid >= 0 {
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
	}
	cmd.SysProcAttr = attr
}

//go:build unix

package history

import (
	"os/exec"
	"syscall"
)

// runAs makes cmd run as uid:gid (the caller is root).
func runAs(cmd *exec.Cmd, uid, gid int) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}}
}

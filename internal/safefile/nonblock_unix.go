//go:build unix

package safefile

import "syscall"

// nonblock keeps open(2) of a FIFO that appeared after the Stat from
// waiting for a writer; it has no effect on regular files.
const nonblock = syscall.O_NONBLOCK

//go:build linux || darwin

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// fileFloorArg, as the first argument, turns this program into the file
// floor: a bare loop that makes N files of SIZE bytes under DIR with the
// system calls aieval's cache makes for one entry (runtime/cache's
// atomicWrite: open a temp file in the entry's shard 0644 and exclusive,
// write, close, rename), so what recording costs can be told apart from
// what the kernel charges for a file.
const fileFloorArg = "__bench-file-floor"

func fileFloor(args []string) int {
	if len(args) != 3 {
		fmt.Fprintf(os.Stderr, "bench file floor: got %d arguments, want DIR N SIZE\n", len(args))
		return 2
	}
	n, errN := strconv.Atoi(args[1])
	size, errS := strconv.Atoi(args[2])
	if errN != nil || errS != nil || n < 1 || size < 0 {
		fmt.Fprintf(os.Stderr, "bench file floor: N %q and SIZE %q must be counts\n", args[1], args[2])
		return 2
	}
	if err := makeFiles(args[0], n, size); err != nil {
		fmt.Fprintf(os.Stderr, "bench file floor: %v\n", err)
		return 1
	}
	return 0
}

func makeFiles(dir string, n, size int) error {
	data := make([]byte, size)
	for i := range data {
		data[i] = 'x'
	}
	for i := range n {
		shard := filepath.Join(dir, fmt.Sprintf("%02x", i%256))
		if i < 256 {
			if err := os.MkdirAll(shard, 0o755); err != nil {
				return err
			}
		}
		tmp := filepath.Join(shard, ".tmp-"+strconv.Itoa(i))
		fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return &fs.PathError{Op: "open", Path: tmp, Err: err}
		}
		if _, err := syscall.Write(fd, data); err != nil {
			return &fs.PathError{Op: "write", Path: tmp, Err: err}
		}
		if err := syscall.Close(fd); err != nil {
			return &fs.PathError{Op: "close", Path: tmp, Err: err}
		}
		if err := syscall.Rename(tmp, filepath.Join(shard, fmt.Sprintf("%064d.json", i))); err != nil {
			return &fs.PathError{Op: "rename", Path: tmp, Err: err}
		}
	}
	return nil
}

// dirStats counts the regular files under dir and their bytes.
func dirStats(dir string) (files int, size int64, err error) {
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		size += info.Size()
		return nil
	})
	return files, size, err
}

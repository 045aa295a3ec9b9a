package reporters

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// SpillBuffer holds a part of a report that is produced in the same pass
// as an earlier part but written after it: in memory for a small run, in a
// temporary file once a large one's part outgrows spillAt, so a 100k-test
// run's report costs no memory that grows with it.
type SpillBuffer struct {
	mem  bytes.Buffer
	file *os.File
	disk bool  // may move to a temporary file
	size int64 // bytes written

	unlinked bool // the file has no name left to remove
}

// spillAt is what a spill buffer that may go to disk holds in memory
// before it does: most parts of most runs never touch the disk.
const spillAt = 256 << 10

// NewSpillBuffer keeps what is written in memory, or, when onDisk, in a
// temporary file once it is past spillAt (in memory still when no
// temporary file can be made: a full TMPDIR must not lose the report).
func NewSpillBuffer(onDisk bool) (*SpillBuffer, error) {
	return &SpillBuffer{disk: onDisk}, nil
}

func (b *SpillBuffer) Write(p []byte) (int, error) {
	b.size += int64(len(p))
	if b.file != nil {
		return b.file.Write(p)
	}
	if b.disk && b.mem.Len()+len(p) > spillAt {
		b.disk = false
		if f, err := os.CreateTemp("", "aieval-report-*"); err == nil {
			// Unlinked at once where the system allows it: the file lives
			// while it is open, and not past a killed run.
			if os.Remove(f.Name()) == nil {
				b.unlinked = true
			}
			if _, err := f.Write(b.mem.Bytes()); err != nil {
				f.Close()
				os.Remove(f.Name())
				return 0, fmt.Errorf("report buffer: %w", err)
			}
			b.file, b.mem = f, bytes.Buffer{}
			return f.Write(p)
		}
	}
	return b.mem.Write(p)
}

// Size is how many bytes were written.
func (b *SpillBuffer) Size() int64 { return b.size }

// CopyTo writes everything buffered to w.
func (b *SpillBuffer) CopyTo(w io.Writer) error { return b.CopyRange(w, 0, b.size) }

// CopyRange writes the n bytes from offset off to w. From a file it goes
// through w's ReadFrom, so a report file takes it by copy_file_range
// without the bytes passing through the process.
func (b *SpillBuffer) CopyRange(w io.Writer, off, n int64) error {
	if b.file == nil {
		_, err := w.Write(b.mem.Bytes()[off : off+n])
		return err
	}
	if _, err := b.file.Seek(off, io.SeekStart); err != nil {
		return err
	}
	copied, err := io.Copy(w, io.LimitReader(b.file, n))
	if err == nil && copied < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// Close removes the temporary file, if any.
func (b *SpillBuffer) Close() error {
	if b.file == nil {
		return nil
	}
	err := b.file.Close()
	if !b.unlinked {
		os.Remove(b.file.Name())
	}
	return err
}

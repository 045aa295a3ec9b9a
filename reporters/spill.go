package reporters

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// SpillBuffer holds a part of a report that is produced in the same pass
// as an earlier part but written after it: in memory for a small run, in a
// temporary file for a spooled one, so a 100k-test run's report costs no
// memory that grows with it.
type SpillBuffer struct {
	mem  bytes.Buffer
	file *os.File
}

// NewSpillBuffer keeps what is written in memory, or in a temporary file
// when onDisk.
func NewSpillBuffer(onDisk bool) (*SpillBuffer, error) {
	b := &SpillBuffer{}
	if onDisk {
		f, err := os.CreateTemp("", "aieval-report-*")
		if err != nil {
			return nil, fmt.Errorf("report buffer: %w", err)
		}
		b.file = f
	}
	return b, nil
}

func (b *SpillBuffer) Write(p []byte) (int, error) {
	if b.file != nil {
		return b.file.Write(p)
	}
	return b.mem.Write(p)
}

// CopyTo writes everything buffered to w.
func (b *SpillBuffer) CopyTo(w io.Writer) error {
	if b.file == nil {
		_, err := w.Write(b.mem.Bytes())
		return err
	}
	if _, err := b.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.Copy(w, b.file)
	return err
}

// Close removes the temporary file, if any.
func (b *SpillBuffer) Close() error {
	if b.file == nil {
		return nil
	}
	name := b.file.Name()
	err := b.file.Close()
	os.Remove(name)
	return err
}

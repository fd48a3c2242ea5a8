//go:build unix

package journal

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps the first size bytes of f read-only. The mapping outlives
// f's descriptor until done. A segment is only ever appended to (and cut
// only at Open, after its scan), so no page of the mapping goes away while
// it is read.
func mapFile(f *os.File, size int64) (data []byte, done func(), ok bool) {
	if size <= 0 || int64(int(size)) != size {
		return nil, nil, false
	}
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, nil, false
	}
	_ = unix.Madvise(b, unix.MADV_SEQUENTIAL)
	return b, func() { unix.Munmap(b) }, true
}

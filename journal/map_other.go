//go:build !unix

package journal

import "os"

// mapFile does not map on this system: segments are read into a buffer.
func mapFile(*os.File, int64) ([]byte, func(), bool) { return nil, nil, false }

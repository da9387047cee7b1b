package transforms

import (
	"sync/atomic"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Beam counters of the job, reported by every runner that reports metrics.
var (
	rowsRead      = beam.NewCounter("glassbox", "rows_read")
	rowsBad       = beam.NewCounter("glassbox", "rows_bad_input")
	rowsExplained = beam.NewCounter("glassbox", "rows_explained")
	rowsFailed    = beam.NewCounter("glassbox", "rows_failed")
	rowsWritten   = beam.NewCounter("glassbox", "output_rows_written")
)

// Progress counts rows in this process, for the terminal progress line of
// in-process runners (Prism loopback): Beam's own metrics arrive only when
// committed, at the end.
type Progress struct {
	// Read counts input rows read, good or bad.
	Read atomic.Int64
	// Explained counts rows explained.
	Explained atomic.Int64
	// Failed counts rows that went to the errors output.
	Failed atomic.Int64
}

// LocalProgress is this process's progress.
var LocalProgress Progress

package corpus

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// lineSource generates size bytes of input lines on the fly, so a parse of a
// gigabyte needs no file: line(i) returns line i without its newline.
type lineSource struct {
	size, done int64
	i          int
	line       func(i int) string
	pending    []byte
}

func (s *lineSource) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(s.pending) == 0 {
			if s.done >= s.size {
				break
			}
			s.i++
			s.pending = []byte(s.line(s.i) + "\n")
			s.done += int64(len(s.pending))
		}
		c := copy(p[n:], s.pending)
		s.pending = s.pending[c:]
		n += c
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// peakHeap runs f while sampling the Go heap in use, and returns its peak.
func peakHeap(f func()) uint64 {
	runtime.GC()
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}

// BenchmarkParseStream parses GLASSBOX_STREAM_BYTES (default 64 MiB; the
// figure in the closing notes used 1 GiB) of short text and JSONL lines and
// reports the peak Go heap: text lines stream in constant memory; JSONL keeps
// one map entry per id to report duplicates, so its heap grows with the row
// count. Run: GLASSBOX_STREAM_BYTES=1073741824 go test -run '^$' -bench ParseStream -benchtime 1x ./corpus
func BenchmarkParseStream(b *testing.B) {
	size := int64(64 << 20)
	if v := os.Getenv("GLASSBOX_STREAM_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		size = n
	}
	for _, tc := range []struct {
		format Format
		line   func(i int) string
	}{
		{FormatText, func(i int) string { return fmt.Sprintf("Short line number %d of the corpus.", i) }},
		{FormatJSONL, func(i int) string {
			return fmt.Sprintf(`{"id": "r%d", "text": "Short line number %d of the corpus."}`, i, i)
		}},
	} {
		b.Run(string(tc.format), func(b *testing.B) {
			for range b.N {
				var rows int64
				start := time.Now()
				peak := peakHeap(func() {
					src := &lineSource{size: size, line: tc.line}
					err := Parse(context.Background(), src, "gen", tc.format, DefaultFields(),
						func(Record) error { rows++; return nil }, func(BadRecord) error { rows++; return nil })
					if err != nil {
						b.Fatal(err)
					}
				})
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
				b.ReportMetric(float64(rows), "rows")
				b.ReportMetric(float64(size)/(1<<20)/time.Since(start).Seconds(), "MiB/s")
			}
		})
	}
}

// TestParseStreamsLongInput parses 4 MiB and 32 MiB of text lines and checks
// the peak heap does not grow with the input: the line reader holds one line
// at a time and text files keep no per-row state.
func TestParseStreamsLongInput(t *testing.T) {
	peak := func(size int64) (uint64, int64) {
		var rows int64
		p := peakHeap(func() {
			src := &lineSource{size: size, line: func(i int) string { return fmt.Sprintf("Short line number %d.", i) }}
			if err := Parse(context.Background(), src, "gen", FormatText, DefaultFields(), func(Record) error { rows++; return nil }, func(BadRecord) error { return nil }); err != nil {
				t.Fatal(err)
			}
		})
		return p, rows
	}
	small, _ := peak(4 << 20)
	large, rows := peak(32 << 20)
	if rows < 1_000_000 {
		t.Fatalf("parsed %d rows", rows)
	}
	if large > small+4<<20 {
		t.Errorf("peak heap %d bytes for 32 MiB of text lines, %d for 4 MiB: the reader does not stream", large, small)
	}
}

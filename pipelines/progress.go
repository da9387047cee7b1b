package pipelines

import (
	"fmt"
	"time"

	"github.com/glassbox-ai/glassbox/transforms"
)

// startProgress prints a progress line to o.Progress every o.ProgressEvery
// from this process's counters (in-process runners only: Beam's own metrics
// arrive at the end) until the returned stop is called, which ends the line.
func startProgress(o RunOptions) (stop func()) {
	if o.Progress == nil {
		return func() {}
	}
	every := o.ProgressEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	p := &transforms.LocalProgress
	start := time.Now()
	base := snapshot()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				read, ex, failed := p.Read.Load()-base[0], p.Explained.Load()-base[1], p.Failed.Load()-base[2]
				secs := time.Since(start).Seconds()
				fmt.Fprintf(o.Progress, "\rread %d  explained %d  failed %d  %.1f rows/s  %s ", read, ex, failed, float64(ex+failed)/secs, time.Since(start).Round(time.Second))
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		fmt.Fprintln(o.Progress)
	}
}

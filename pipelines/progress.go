package pipelines

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/glassbox-ai/glassbox/runner"
	"github.com/glassbox-ai/glassbox/transforms"
)

// startProgress prints a progress line to o.Progress every o.ProgressEvery
// until the returned stop is called, which ends the line. Its counts come
// from where the runner has them (runner.Watch): this process's counters
// when the workers run here, the job service's metrics through the returned
// watch when they run elsewhere; a runner with neither gets one line saying
// so. watch is nil when the job service is not needed.
func startProgress(o RunOptions) (watch func(runner.Counters), stop func()) {
	if o.Progress == nil {
		return nil, func() {}
	}
	every := o.ProgressEvery
	if every <= 0 {
		every = 2 * time.Second
	}
	var read func() [3]int64
	switch runner.Watch() {
	case "local":
		base := snapshot()
		read = func() [3]int64 {
			now := snapshot()
			return [3]int64{now[0] - base[0], now[1] - base[1], now[2] - base[2]}
		}
	case "job service":
		var latest atomic.Pointer[[3]int64]
		latest.Store(&[3]int64{})
		watch = func(c runner.Counters) {
			latest.Store(&[3]int64{c["rows_read"], c["rows_explained"], c["rows_failed"] + c["rows_bad_input"]})
		}
		read = func() [3]int64 { return *latest.Load() }
	default:
		fmt.Fprintf(o.Progress, "progress: runner %s reports counts only when the job ends\n", runner.Name())
		return nil, func() {}
	}
	start := time.Now()
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
				c := read()
				secs := time.Since(start).Seconds()
				fmt.Fprintf(o.Progress, "\rread %d  explained %d  failed %d  %.1f rows/s  %s ", c[0], c[1], c[2], float64(c[1]+c[2])/secs, time.Since(start).Round(time.Second))
			}
		}
	}()
	return watch, func() {
		close(done)
		<-finished
		fmt.Fprintln(o.Progress)
	}
}

// snapshot reads this process's progress counters (read, explained, failed).
func snapshot() [3]int64 {
	p := &transforms.LocalProgress
	return [3]int64{p.Read.Load(), p.Explained.Load(), p.Failed.Load()}
}

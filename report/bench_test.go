package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// BenchmarkReportSynthetic builds the report of a synthetic run of
// $GLASSBOX_REPORT_ROWS examples (default 100,000; two methods each) and
// reports its size (bytes/report) and the time to load and render it.
//
//	go test -run '^$' -bench ReportSynthetic -benchtime 1x ./report
func BenchmarkReportSynthetic(b *testing.B) {
	n := 100000
	if s := os.Getenv("GLASSBOX_REPORT_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	t0 := time.Now()
	writeSyntheticRun(b, dir, synthOptions{examples: n, shards: 8})
	b.Logf("wrote a synthetic run of %d examples in %s", n, time.Since(t0).Round(time.Millisecond))
	b.ResetTimer()
	var size int
	for range b.N {
		r, err := Load(context.Background(), Local(), dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		if err := Write(&out, r); err != nil {
			b.Fatal(err)
		}
		size = out.Len()
	}
	b.ReportMetric(float64(size), "bytes/report")
	b.Logf("report of %d examples: %d bytes (%.2f MB)", n, size, float64(size)/1e6)
}

// BenchmarkReportOpen builds the report of the run in $GLASSBOX_REPORT_RUN
// (default ../out, what make run writes), opens it from disk in headless
// Chromium and reports its size and the time to its load event (load-ms).
//
//	make run && go test -run '^$' -bench ReportOpen -benchtime 5x ./report
func BenchmarkReportOpen(b *testing.B) {
	dir := os.Getenv("GLASSBOX_REPORT_RUN")
	if dir == "" {
		dir = "../out"
	}
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		b.Skipf("no finished run in %s (run make run, or set GLASSBOX_REPORT_RUN): %v", dir, err)
	}
	bin := chromium(b)
	t0 := time.Now()
	r, err := Load(context.Background(), Local(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	var out bytes.Buffer
	if err := Write(&out, r); err != nil {
		b.Fatal(err)
	}
	build := time.Since(t0)
	file := filepath.Join(b.TempDir(), "report.html")
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bctx, closeB := NewBrowser(ctx, bin)
	defer closeB()
	if err := chromedp.Do(bctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var total float64
	for range b.N {
		tab, cancelTab := chromedp.NewContext(bctx)
		if err := chromedp.Do(tab, chromedp.Navigate("file://"+file)); err != nil {
			b.Fatal(err)
		}
		ms, err := chromedp.Run(tab, chromedp.Evaluate[float64](`performance.getEntriesByType("navigation")[0].loadEventEnd`))
		if err != nil {
			b.Fatal(err)
		}
		total += ms
		cancelTab()
	}
	b.ReportMetric(total/float64(b.N), "load-ms")
	b.ReportMetric(float64(out.Len()), "bytes/report")
	b.Logf("%s: %d examples held of %d, report %d bytes (%.2f MB), built in %s, load event after %.0f ms (mean of %d)",
		dir, len(r.Examples), r.Selection.Total, out.Len(), float64(out.Len())/1e6, build.Round(time.Millisecond), total/float64(b.N), b.N)
}

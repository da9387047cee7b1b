package report

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds Chromium for a browser test: it skips when there is none
// and CI is unset, and fails when CI is set (make test installs it first).
func chromium(t testing.TB) string {
	t.Helper()
	p, err := FindChromium()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and %v", err)
		}
		t.Skipf("skipping the browser test: %v (make chromium or make test installs Debian's chromium; with CI set this fails)", err)
	}
	return p
}

// pageLog collects what a page did: console errors, exceptions, dialogs and requests.
type pageLog struct {
	mu       sync.Mutex
	problems []string
	requests []string
}

func (l *pageLog) listen(ev any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			l.problems = append(l.problems, "console "+string(e.Type))
		}
	case *runtime.EventExceptionThrown:
		l.problems = append(l.problems, "exception: "+e.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError {
			l.problems = append(l.problems, "log: "+e.Entry.Text)
		}
	case *cdppage.EventJavascriptDialogOpening:
		l.problems = append(l.problems, "dialog: "+e.Message)
	case *network.EventRequestWillBeSent:
		l.requests = append(l.requests, e.Request.URL)
	}
}

// openReport loads file in a fresh tab of browser ctx and returns the tab and what it logged.
func openReport(t *testing.T, ctx context.Context, file string) (context.Context, *pageLog) {
	t.Helper()
	tab, cancel := chromedp.NewContext(ctx)
	t.Cleanup(cancel)
	l := &pageLog{}
	if err := chromedp.Listen(tab, l.listen); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 1000), chromedp.Navigate("file://"+file)); err != nil {
		t.Fatal(err)
	}
	return tab, l
}

func eval[T any](t *testing.T, tab context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(tab, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// shoot saves a screenshot of the element under dir/name.png and checks it is not blank.
func shoot(t *testing.T, tab context.Context, sel, dir, name string) {
	t.Helper()
	b, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("screenshot %s: %v", sel, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if v := lumaVariance(img); v < 50 {
		t.Errorf("%s looks blank: luma variance %.1f", path, v)
	} else {
		t.Logf("%s: %dx%d, luma variance %.0f", path, img.Bounds().Dx(), img.Bounds().Dy(), v)
	}
}

// lumaVariance is the variance of the pixels' luma (0…255).
func lumaVariance(img image.Image) float64 {
	var n, s, ss float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			n++
			s += l
			ss += l * l
		}
	}
	m := s / n
	return ss/n - m*m
}

func TestReportInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	_, html := render(t, sampleRun, Options{})
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bctx, closeB := NewBrowser(ctx, bin)
	defer closeB()
	if err := chromedp.Do(bctx); err != nil { // start the browser
		t.Fatal(err)
	}
	tab, l := openReport(t, bctx, file)
	sections := eval[[]string](t, tab, `["overview","global","examples","attention","surrogates","errors"].filter(id => {
		const s = document.getElementById(id); return !s || s.textContent.trim().length < 20 })`)
	if len(sections) > 0 {
		t.Errorf("sections missing or empty: %v", sections)
	}
	counts := eval[map[string]float64](t, tab, `({bars: document.querySelectorAll("#global svg.bars").length,
		examples: document.querySelectorAll("#examples details.ex").length,
		attn: document.querySelectorAll("#attention svg.attn").length,
		thumbs: document.querySelectorAll("#attention .thumb-btn").length,
		errors: document.querySelectorAll("#errors table.errors tbody tr").length})`)
	want := map[string]float64{"bars": 6, "examples": 2, "attn": 1, "thumbs": 6, "errors": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %v, want %v", k, counts[k], v)
		}
	}

	// Keyboard: focusing a word shows its tooltip (text, offsets, value).
	tip := eval[string](t, tab, `(() => { const d = document.querySelector("details.ex"); d.open = true;
		const w = d.querySelector(".heat.words .t"); w.focus();
		return document.activeElement === w ? getComputedStyle(w, "::after").content : "not focused" })()`)
	if !strings.Contains(tip, "[") || !strings.Contains(tip, ")") {
		t.Errorf("focused word's tooltip: %q", tip)
	}
	// Filtering: a search that matches one example hides the other.
	shown := eval[string](t, tab, `(() => { const f = document.getElementById("f-text"); f.value = "dreadful";
		f.dispatchEvent(new Event("input")); return document.getElementById("f-count").textContent })()`)
	if shown != "1 of 2 shown" {
		t.Errorf("after searching: %q", shown)
	}
	eval[bool](t, tab, `(() => { const f = document.getElementById("f-text"); f.value = ""; f.dispatchEvent(new Event("input")); return true })()`)
	// Choosing a thumbnail swaps the large attention map.
	sel := eval[string](t, tab, `(() => { const b = document.querySelectorAll(".thumb-btn")[1]; b.click(); return document.querySelector(".attn-sel").textContent })()`)
	if !strings.HasPrefix(sel, "layer ") {
		t.Errorf("after choosing a thumbnail: %q", sel)
	}

	shoot(t, tab, "#overview", dir, "overview")
	shoot(t, tab, "#global figure svg.bars", dir, "global-chart")
	shoot(t, tab, "details.ex .method", dir, "example-heatmap")

	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) > 0 {
		t.Errorf("the page reported problems: %v", l.problems)
	}
	for _, u := range l.requests {
		if u != "file://"+file && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s", u)
		}
	}
	if len(l.requests) == 0 {
		t.Error("no request seen at all: the network listener is not working")
	}
}

func TestHostileTextDoesNotRunInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	writeSyntheticRun(t, run, synthOptions{examples: 8, texts: hostile, errorRaw: `<script>window.__pwned=5</script>`})
	_, html := render(t, run, Options{})
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bctx, closeB := NewBrowser(ctx, bin)
	defer closeB()
	tab, l := openReport(t, bctx, file)
	// Open every example so any injected element would be live.
	got := eval[string](t, tab, `(() => { document.querySelectorAll("details").forEach(d => d.open = true);
		document.querySelectorAll(".t").forEach(e => e.focus());
		return String(window.__pwned) + " " + document.querySelectorAll("img, script, iframe, object, embed").length })()`)
	if got != "undefined 1" {
		t.Errorf("window.__pwned and active elements: %q, want \"undefined 1\" (only the report's own script)", got)
	}
	shown := eval[bool](t, tab, `document.body.textContent.includes("<script>window.__pwned = 1</script>")`)
	if !shown {
		t.Error("the hostile text is not shown as text")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) > 0 {
		t.Errorf("the page reported problems: %v", l.problems)
	}
}

// The Faithfulness and Agreement sections render, with their charts, in Chromium.
func TestAuditSectionsInChromium(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	writeSyntheticRun(t, run, synthOptions{examples: 40})
	_, html := render(t, run, Options{})
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	bctx, closeB := NewBrowser(ctx, bin)
	defer closeB()
	tab, l := openReport(t, bctx, file)
	counts := eval[map[string]float64](t, tab, `({
		faithBars: document.querySelectorAll("#faithfulness svg.bars").length,
		faithBarRects: document.querySelectorAll("#faithfulness svg.bars rect").length,
		faithRows: document.querySelectorAll("#faithfulness table.faith tbody tr").length,
		agreeMatrices: document.querySelectorAll("#agreement svg.matrix").length,
		agreeCells: document.querySelectorAll("#agreement svg.matrix g rect").length,
		agreeRows: document.querySelectorAll("#agreement table.agree tbody tr").length,
		exampleFaith: document.querySelectorAll("#examples details.ex p.faith").length,
		navLinks: document.querySelectorAll('nav a[href="#faithfulness"], nav a[href="#agreement"]').length})`)
	want := map[string]float64{"faithBars": 2, "faithBarRects": 8, "faithRows": 16, "agreeMatrices": 4, "agreeCells": 16, "agreeRows": 2, "exampleFaith": 80, "navLinks": 2}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %v, want %v", k, counts[k], v)
		}
	}
	// The sections are laid out (not collapsed to nothing) and say how to read the figures.
	h := eval[float64](t, tab, `Math.min(document.getElementById("faithfulness").getBoundingClientRect().height, document.getElementById("agreement").getBoundingClientRect().height)`)
	if h < 200 {
		t.Errorf("a section is only %v px high", h)
	}
	if txt := eval[string](t, tab, `document.getElementById("faithfulness").innerText`); !strings.Contains(txt, "Higher comprehensiveness and lower sufficiency mean a more faithful explanation") {
		t.Errorf("faithfulness section text: %.200q", txt)
	}
	shoot(t, tab, "#faithfulness figure svg.bars", dir, "faithfulness-chart")
	shoot(t, tab, "#agreement figure svg.matrix", dir, "agreement-matrix")
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.problems) > 0 {
		t.Errorf("the page reported problems: %v", l.problems)
	}
}

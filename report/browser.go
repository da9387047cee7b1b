package report

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv names the environment variable that points at a Chromium or Chrome binary.
const ChromiumEnv = "GLASSBOX_CHROMIUM"

// FindChromium returns the path of a Chromium or Chrome binary: $GLASSBOX_CHROMIUM,
// else the first of chromium, chromium-browser, google-chrome, google-chrome-stable, headless-shell on PATH.
func FindChromium() (string, error) {
	if p := os.Getenv(ChromiumEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", ChromiumEnv, p, err)
		}
		return p, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no Chromium found (install Debian's chromium package, e.g. make chromium, or set %s)", ChromiumEnv)
}

// NewBrowser starts headless Chromium at path and returns a tab's context
// and a function that closes the browser.
func NewBrowser(ctx context.Context, path string) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // running as root in containers needs it; the page is our own file
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelA := chromedp.NewExecAllocator(ctx, opts...)
	tctx, cancelT := chromedp.NewContext(actx)
	return tctx, func() { cancelT(); cancelA() }
}

// WritePNGs screenshots each chart, drawn alone on a white page at twice
// its size, into dir as NAME.png with headless Chromium at browser, and
// returns the files written.
func WritePNGs(ctx context.Context, browser string, charts []Chart, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("png: %w", err)
	}
	tmp, err := os.MkdirTemp("", "glassbox-png-")
	if err != nil {
		return nil, fmt.Errorf("png: %w", err)
	}
	defer os.RemoveAll(tmp)
	bctx, closeB := NewBrowser(ctx, browser)
	defer closeB()
	bctx, cancel := context.WithTimeout(bctx, 2*time.Minute)
	defer cancel()
	var out []string
	for _, c := range charts {
		page := filepath.Join(tmp, c.Name+".html")
		html := `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff;font-family:sans-serif}#c{display:inline-block;padding:12px}svg text{fill:#1a1a1a}</style></head><body><div id="c"><div style="font-size:13px;font-weight:600;margin-bottom:4px">` +
			esc(c.Title) + `</div>` + string(c.SVG) + `</div></body></html>`
		if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
			return out, fmt.Errorf("png: %w", err)
		}
		err := chromedp.Do(bctx, chromedp.EmulateViewport(1400, 1000, chromedp.EmulateScale(2)), chromedp.Navigate("file://"+page))
		if err != nil {
			return out, fmt.Errorf("png: load %s: %w", c.Name, err)
		}
		buf, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.CSS("#c")))
		if err != nil {
			return out, fmt.Errorf("png: screenshot %s: %w", c.Name, err)
		}
		dst := filepath.Join(dir, c.Name+".png")
		if err := os.WriteFile(dst, buf, 0o644); err != nil {
			return out, fmt.Errorf("png: %w", err)
		}
		out = append(out, dst)
	}
	return out, nil
}

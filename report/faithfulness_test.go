package report

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glassbox-ai/glassbox/schemas"
)

func TestFaithfulnessAndAgreementSections(t *testing.T) {
	dir := t.TempDir()
	writeSyntheticRun(t, dir, synthOptions{examples: 40})
	r, page := render(t, dir, Options{})
	if len(r.Faithfulness) != 2*2*14 || len(r.Agreement) != 2 {
		t.Fatalf("faithfulness rows %d (want 56), agreement rows %d (want 2)", len(r.Faithfulness), len(r.Agreement))
	}
	for _, want := range []string{
		`<section id="faithfulness">`, `<a href="#faithfulness">Faithfulness</a>`, `<section id="agreement">`, `<a href="#agreement">Agreement</a>`,
		"Higher comprehensiveness and lower sufficiency mean a more faithful explanation",
		"mean AOPC comprehensiveness (compr.) and sufficiency (suff.) per method, target POSITIVE", "kernelshap compr.", "occlusion suff.",
		"<td>aopc_comprehensiveness</td><td>higher</td>", "<td>aopc_sufficiency</td><td>lower</td>", "<td>comprehensiveness_5</td>",
		"mean Kendall τ-b between methods, target NEGATIVE", "mean top-k overlap between methods, target POSITIVE",
		`<svg class="chart matrix"`, "occlusion × kernelshap: ", "kernelshap × kernelshap: 1.00",
		`<p class="dim faith">faithfulness (attention masking, `,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// Sections come after the global importances and before the examples.
	g, f, a, e := strings.Index(page, `<section id="global">`), strings.Index(page, `<section id="faithfulness">`), strings.Index(page, `<section id="agreement">`), strings.Index(page, `<section id="examples">`)
	if !(g < f && f < a && a < e) {
		t.Errorf("section order global %d faithfulness %d agreement %d examples %d", g, f, a, e)
	}

	// Hostile method and target names are escaped in tables and SVG.
	r.Agreement[0].MethodA = `<script>x()</script>`
	r.Faithfulness[0].Method = `<img src=x>`
	r.Faithfulness[0].Target = `"><b>t`
	var b bytes.Buffer
	if err := Write(&b, r); err != nil {
		t.Fatal(err)
	}
	if s := b.String(); strings.Contains(s, "<script>x()") || strings.Contains(s, "<img src=x>") || strings.Contains(s, `"><b>t`) || !strings.Contains(s, "&lt;script&gt;x()") {
		t.Error("hostile method or target names are not escaped")
	}

	// The committed sample run has both files, so both sections; a copy
	// without them has no sections and no nav links.
	sections := []string{`id="faithfulness"`, `id="agreement"`, `href="#faithfulness"`}
	_, page = render(t, sampleRun, Options{})
	for _, want := range sections {
		if !strings.Contains(page, want) {
			t.Errorf("sample run's page lacks %q", want)
		}
	}
	bare := t.TempDir()
	entries, err := os.ReadDir(sampleRun)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if n == schemas.FaithfulnessFile || n == schemas.AgreementSummaryFile || strings.HasPrefix(n, schemas.AgreementPrefix+"-") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(sampleRun, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(bare, n), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, page = render(t, bare, Options{})
	for _, bad := range sections {
		if strings.Contains(page, bad) {
			t.Errorf("page of a run without the files has %q", bad)
		}
	}
	if _, err := Load(context.Background(), Local(), filepath.Join(dir, "missing"), Options{}); err == nil {
		t.Error("Load of a missing folder: no error")
	}
}

// Matrix cells print their values in white on dark fills (the style attribute beats the page's svg text rule).
func TestMatrixInk(t *testing.T) {
	svg := string(MatrixChart("m", []string{"a"}, []string{"a", "b"}, [][]float64{{1, 0}}, func(v float64) string { return Sequential(v, 1) }, func(v float64) string { return "v" }))
	if !strings.Contains(svg, `style="fill:#fff">v`) || !strings.Contains(svg, `style="fill:#111">v`) {
		t.Errorf("matrix ink: %s", svg)
	}
	if inkFor("nonsense") != "#111" || inkFor("#08306b") != "#fff" || inkFor("#f7fbff") != "#111" {
		t.Error("inkFor")
	}
}

package report

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"math"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// attentionPNG draws an n×n attention matrix as an n×n-pixel PNG, pixel
// (x=j, y=i) the weight of query i on key j on the white-to-blue scale 0…1.
func attentionPNG(weights []float32, n int) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	for i := range n {
		for j := range n {
			v := 0.0
			if k := i*n + j; k < len(weights) {
				v = float64(weights[k])
			}
			c := rampRGB(blues[:], math.Max(0, math.Min(1, v)))
			img.SetRGBA(j, i, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("attention heat map: %w", err)
	}
	return b.Bytes(), nil
}

// Geometry of the large attention heat map.
const attnPx, attnLabel = 14.0, 70.0

// AttentionMap draws one attention matrix: the pixels as an inline PNG
// scaled to cells, the tokens on both axes (queries down, keys across);
// with labels false it is a thumbnail of side px.
func AttentionMap(m schemas.AttentionMatrixRow, labels bool, px float64) (template.HTML, error) {
	n := int(m.SeqLen)
	if n <= 0 || n*n > len(m.Weights) {
		return "", fmt.Errorf("attention matrix of %s layer %d head %d: %d weights for %d positions", m.ExampleID, m.Layer, m.Head, len(m.Weights), n)
	}
	b, err := attentionPNG(m.Weights, n)
	if err != nil {
		return "", err
	}
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(b)
	var s strings.Builder
	head := fmt.Sprintf("head %d", m.Head)
	if m.Head == schemas.HeadAverage {
		head = "mean of heads"
	}
	title := fmt.Sprintf("layer %d, %s", m.Layer, head)
	if !labels {
		fmt.Fprintf(&s, `<svg class="thumb" role="img" viewBox="0 0 %d %d" width="%s" height="%s" preserveAspectRatio="none"><title>%s</title><image href="%s" x="0" y="0" width="%d" height="%d" preserveAspectRatio="none" style="image-rendering:pixelated"/></svg>`,
			n, n, num(px), num(px), esc(title), uri, n, n)
		return template.HTML(s.String()), nil
	}
	side := attnPx * float64(n)
	w := attnLabel + side
	fmt.Fprintf(&s, `<svg class="attn" role="img" viewBox="0 0 %s %s" width="%s" height="%s" font-size="10"><title>%s: query tokens down, key tokens across</title>`,
		num(w), num(w), num(w), num(w), esc(title))
	fmt.Fprintf(&s, `<image href="%s" x="%s" y="%s" width="%s" height="%s" preserveAspectRatio="none" style="image-rendering:pixelated"/>`,
		uri, num(attnLabel), num(attnLabel), num(side), num(side))
	for i, t := range m.Tokens {
		c := attnLabel + attnPx*(float64(i)+0.5)
		fmt.Fprintf(&s, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(attnLabel-3), num(c+3), esc(clip(t, 10)))
		fmt.Fprintf(&s, `<text transform="translate(%s %s) rotate(-90)">%s</text>`, num(c+3), num(attnLabel-3), esc(clip(t, 10)))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String()), nil
}

// WordHeat renders text with each word's span coloured by its attribution
// (diverging scale with ends ±maxAbs); hovering or focusing a word shows its
// text, code-point offsets and value. Text between words stays plain.
func WordHeat(text string, words []schemas.Word, maxAbs float64) template.HTML {
	runes := []rune(text)
	var s strings.Builder
	at := 0
	for _, w := range words {
		start, end := clampSpan(int(w.Start), int(w.End), at, len(runes))
		if start > at {
			s.WriteString(esc(string(runes[at:start])))
		}
		fmt.Fprintf(&s, `<span class="t" tabindex="0" style="background:%s;color:%s" aria-label="%s [%d, %d) %s">%s</span>`,
			Diverging(w.Attribution, maxAbs), inkOn(w.Attribution, maxAbs), esc(w.Text), w.Start, w.End, esc(signedVal(w.Attribution)), esc(string(runes[start:end])))
		at = end
	}
	if at < len(runes) {
		s.WriteString(esc(string(runes[at:])))
	}
	return template.HTML(s.String())
}

// TokenHeat renders the tokens as chips coloured by attribution, special
// tokens greyed; hover or focus shows the token, its code-point and byte
// offsets and its value.
func TokenHeat(tokens []schemas.Token, maxAbs float64) template.HTML {
	var s strings.Builder
	for _, t := range tokens {
		if t.Special {
			fmt.Fprintf(&s, `<span class="t sp" tabindex="0" aria-label="%s special token #%d">%s</span> `, esc(t.Text), t.Index, esc(t.Text))
			continue
		}
		fmt.Fprintf(&s, `<span class="t" tabindex="0" style="background:%s;color:%s" aria-label="%s #%d [%d, %d) bytes [%d, %d) %s">%s</span> `,
			Diverging(t.Attribution, maxAbs), inkOn(t.Attribution, maxAbs), esc(t.Text), t.Index, t.Start, t.End, t.ByteStart, t.ByteEnd, esc(signedVal(t.Attribution)), esc(t.Text))
	}
	return template.HTML(s.String())
}

// clampSpan keeps a word's span inside [at, n] so malformed offsets cannot repeat or overrun the text.
func clampSpan(start, end, at, n int) (int, int) {
	start = max(at, min(start, n))
	end = max(start, min(end, n))
	return start, end
}

// maxAbsOf returns the largest absolute attribution of a row's tokens and words.
func maxAbsOf(r schemas.ExplanationRow) float64 {
	m := 0.0
	for _, t := range r.Tokens {
		m = math.Max(m, math.Abs(t.Attribution))
	}
	for _, w := range r.Words {
		m = math.Max(m, math.Abs(w.Attribution))
	}
	return m
}

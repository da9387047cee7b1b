package report

import (
	"fmt"
	"math"
)

// rdBu are ColorBrewer's 7-class RdBu colours (colour-blind safe), from
// most negative (blue) through neutral grey-white to most positive (red).
var rdBu = [7][3]float64{
	{0x21, 0x66, 0xac}, {0x67, 0xa9, 0xcf}, {0xd1, 0xe5, 0xf0}, {0xf7, 0xf7, 0xf7},
	{0xfd, 0xdb, 0xc7}, {0xef, 0x8a, 0x62}, {0xb2, 0x18, 0x2b},
}

// blues is a sequential white-to-dark-blue ramp (ColorBrewer Blues, 5 classes) for non-negative values such as attention weights.
var blues = [5][3]float64{
	{0xf7, 0xfb, 0xff}, {0xc6, 0xdb, 0xef}, {0x6b, 0xae, 0xd6}, {0x21, 0x71, 0xb5}, {0x08, 0x30, 0x6b},
}

// Positive and Negative are the bar colours of positive and negative values (RdBu's ends).
const (
	Positive = "#b2182b"
	Negative = "#2166ac"
)

// Diverging returns the colour of v on a diverging scale centred at 0 whose
// ends are ±maxAbs (values beyond are clamped); 0 and NaN are the neutral middle.
func Diverging(v, maxAbs float64) string {
	t := 0.0
	if maxAbs > 0 && !math.IsNaN(v) {
		t = math.Max(-1, math.Min(1, v/maxAbs))
	}
	return ramp(rdBu[:], (t+1)/2)
}

// Sequential returns the colour of v on a white-to-blue scale from 0 to maxV (clamped).
func Sequential(v, maxV float64) string {
	t := 0.0
	if maxV > 0 && !math.IsNaN(v) {
		t = math.Max(0, math.Min(1, v/maxV))
	}
	return ramp(blues[:], t)
}

// ramp interpolates linearly between equally spaced anchors at t in [0, 1].
func ramp(anchors [][3]float64, t float64) string {
	c := rampRGB(anchors, t)
	return fmt.Sprintf("#%02x%02x%02x", c[0], c[1], c[2])
}

func rampRGB(anchors [][3]float64, t float64) [3]uint8 {
	pos := t * float64(len(anchors)-1)
	i := int(math.Floor(pos))
	if i >= len(anchors)-1 {
		i = len(anchors) - 2
	}
	f := pos - float64(i)
	var out [3]uint8
	for k := range out {
		out[k] = uint8(math.Round(anchors[i][k] + f*(anchors[i+1][k]-anchors[i][k])))
	}
	return out
}

// inkFor returns the text colour readable on a background colour "#rrggbb"
// (white on dark fills, by relative luminance); near-black for anything else.
func inkFor(fill string) string {
	var r, g, b uint8
	if n, _ := fmt.Sscanf(fill, "#%02x%02x%02x", &r, &g, &b); n != 3 {
		return "#111"
	}
	if 0.2126*float64(r)+0.7152*float64(g)+0.0722*float64(b) < 110 {
		return "#fff"
	}
	return "#111"
}

// inkOn returns the text colour readable on a background at t = |v|/maxAbs of the diverging scale.
func inkOn(v, maxAbs float64) string {
	if maxAbs > 0 && math.Abs(v)/maxAbs > 0.66 {
		return "#fff"
	}
	return "#111"
}

package attention

import "math"

// HeadStat summarises one head of one layer, each field averaged over the query positions.
type HeadStat struct {
	// Layer is the 0-based layer index.
	Layer int
	// Head is the 0-based head index within the layer.
	Head int
	// Entropy is the mean Shannon entropy of the query rows, in nats.
	Entropy float64
	// MaxWeight is the mean of each query row's largest weight.
	MaxWeight float64
	// SpecialShare is the mean attention mass that a query row puts on special tokens.
	SpecialShare float64
	// MeanSpan is the mean distance-weighted span Σ_j a_ij·|i−j| of the query rows.
	MeanSpan float64
}

// Stats returns one HeadStat per (layer, head) in layer-then-head order; special may be nil (no special tokens) and it returns nil when w fails Validate or special has a length other than n.
func Stats(w Weights, special []bool) []HeadStat {
	n, err := Validate(w)
	if err != nil || (special != nil && len(special) != n) {
		return nil
	}
	var out []HeadStat
	inv := 1 / float64(n)
	for l, layer := range w {
		for h, head := range layer {
			s := HeadStat{Layer: l, Head: h}
			for i, row := range head {
				var ent, mx, sp, span float64
				for j, v32 := range row {
					v := float64(v32)
					// 0·ln 0 = 0 by continuity; the guard also keeps ln away from 0.
					if v > 0 {
						ent -= v * math.Log(v)
					}
					mx = math.Max(mx, v)
					if special != nil && special[j] {
						sp += v
					}
					d := i - j
					if d < 0 {
						d = -d
					}
					span += v * float64(d)
				}
				s.Entropy += ent
				s.MaxWeight += mx
				s.SpecialShare += sp
				s.MeanSpan += span
			}
			s.Entropy *= inv
			s.MaxWeight *= inv
			s.SpecialShare *= inv
			s.MeanSpan *= inv
			out = append(out, s)
		}
	}
	return out
}

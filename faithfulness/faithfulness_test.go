package faithfulness

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/glassbox-ai/glassbox/explanation"
)

const replaceID = 103

// request builds [CLS] t0 … t(n−1) [SEP] with ids 1000+i (specials at both ends).
func request(n int, masking explanation.Masking) explanation.Request {
	l := n + 2
	req := explanation.Request{
		Input:     explanation.Input{IDs: make([]int64, l), Mask: make([]int64, l), TypeIDs: make([]int64, l)},
		Special:   make([]bool, l),
		Masking:   masking,
		ReplaceID: replaceID,
	}
	for i := range req.Input.IDs {
		req.Input.IDs[i] = int64(1000 + i)
		req.Input.Mask[i] = 1
	}
	req.Special[0], req.Special[l-1] = true, true
	return req
}

// additive scores bias + Σ w over the present non-special tokens (w[i] is the
// weight of token i+1), like the additive fixture model's logit. It checks
// every input is a legal perturbation and counts Score calls.
type additive struct {
	t     *testing.T
	req   explanation.Request
	bias  float64
	w     []float64
	calls int
	seen  int
}

func (a *additive) Score(_ context.Context, inputs []explanation.Input) ([]float64, error) {
	a.calls++
	a.seen += len(inputs)
	out := make([]float64, len(inputs))
	for k, in := range inputs {
		v := a.bias
		for i := range in.IDs {
			orig := a.req.Input
			if a.req.Special[i] {
				if in.IDs[i] != orig.IDs[i] || in.Mask[i] != orig.Mask[i] {
					a.t.Errorf("input %d: special token %d perturbed", k, i)
				}
				continue
			}
			if in.TypeIDs[i] != orig.TypeIDs[i] {
				a.t.Errorf("input %d: type id %d changed", k, i)
			}
			var present bool
			switch a.req.Masking {
			case explanation.MaskReplace:
				if in.Mask[i] != 1 || (in.IDs[i] != orig.IDs[i] && in.IDs[i] != replaceID) {
					a.t.Errorf("input %d: replace masking made token %d id %d mask %d", k, i, in.IDs[i], in.Mask[i])
				}
				present = in.IDs[i] == orig.IDs[i]
			default:
				if in.IDs[i] != orig.IDs[i] {
					a.t.Errorf("input %d: attention masking changed id %d", k, i)
				}
				present = in.Mask[i] == 1
			}
			if present {
				v += a.w[i-1]
			}
		}
		out[k] = v
	}
	return out, nil
}

// withSpecials puts attributions for the non-special tokens between two
// special-token attributions (which must be ignored).
func withSpecials(a []float64) []float64 {
	return append(append([]float64{99}, a...), -99)
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*(1+math.Abs(b)) }

func TestKCount(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want [NK]int
	}{
		{1, [NK]int{1, 1, 1, 1, 1}},
		{3, [NK]int{1, 1, 1, 1, 2}},
		{10, [NK]int{1, 1, 1, 2, 5}},
		{19, [NK]int{1, 1, 2, 4, 10}},
		{100, [NK]int{1, 5, 10, 20, 50}},
		{101, [NK]int{2, 6, 11, 21, 51}},
		{200, [NK]int{2, 10, 20, 40, 100}},
	} {
		var got [NK]int
		for j, k := range Ks {
			got[j] = KCount(k, tc.n)
		}
		if got != tc.want {
			t.Errorf("n=%d: c(k) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestSchedule(t *testing.T) {
	if got := fmt.Sprint(Schedule(3)); got != "[0 1 2 3]" {
		t.Errorf("Schedule(3) = %s", got)
	}
	s := Schedule(100)
	if len(s) != 51 || s[1] != 2 || s[50] != 100 {
		t.Errorf("Schedule(100) = %v", s)
	}
	s = Schedule(51)
	if len(s) != 51 || s[0] != 0 || s[1] != 2 || s[49] != 50 || s[50] != 51 {
		t.Errorf("Schedule(51) = %v", s)
	}
}

// TestAdditiveClosedForms: on an additive model the comprehensiveness of the
// top-k tokens is the sum of their terms and the sufficiency the sum of the
// other terms, whichever masking removes them.
func TestAdditiveClosedForms(t *testing.T) {
	tests := []struct {
		name string
		w    []float64
		attr []float64 // nil: the weights themselves
		// top-c(k) sets, as token indices into w, per k of Ks
		want [NK][]int
	}{
		{"three tokens", []float64{0.5, -2, 3}, nil, [NK][]int{{2}, {2}, {2}, {2}, {2, 0}}},
		{"ten tokens", []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, nil, [NK][]int{{9}, {9}, {9}, {9, 8}, {9, 8, 7, 6, 5}}},
		// "top" is the largest signed attribution: the large negative one ranks last.
		{"signed", []float64{-5, 1, 0.5}, nil, [NK][]int{{1}, {1}, {1}, {1}, {1, 2}}},
		// Ties in attribution: the earlier token ranks first.
		{"ties by position", []float64{1, 10, 100, 1000}, []float64{1, 2, 2, 2}, [NK][]int{{1}, {1}, {1}, {1}, {1, 2}}},
		// Attributions need not be the weights: the set follows attributions.
		{"misleading", []float64{1, 2, 3}, []float64{3, 2, 1}, [NK][]int{{0}, {0}, {0}, {0}, {0, 1}}},
	}
	for _, masking := range []explanation.Masking{explanation.MaskAttention, explanation.MaskReplace} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/%s", masking, tc.name), func(t *testing.T) {
				req := request(len(tc.w), masking)
				sc := &additive{t: t, req: req, bias: 0.25, w: tc.w}
				attr := tc.attr
				if attr == nil {
					attr = tc.w
				}
				m, err := Compute(context.Background(), sc, req, withSpecials(attr))
				if err != nil {
					t.Fatal(err)
				}
				if sc.calls != 1 {
					t.Errorf("%d Score calls, want 1", sc.calls)
				}
				if sc.seen != m.Evaluations {
					t.Errorf("scored %d inputs, Evaluations %d", sc.seen, m.Evaluations)
				}
				total := 0.0
				for _, w := range tc.w {
					total += w
				}
				if !near(m.Full, 0.25+total) || !near(m.Empty, 0.25) || m.Tokens != len(tc.w) || m.Masking != masking {
					t.Errorf("full %v empty %v tokens %d masking %s", m.Full, m.Empty, m.Tokens, m.Masking)
				}
				var aopcC, aopcS float64
				for j := range Ks {
					top := 0.0
					for _, i := range tc.want[j] {
						top += tc.w[i]
					}
					if m.KTokens[j] != len(tc.want[j]) {
						t.Errorf("k=%d%%: %d tokens, want %d", Ks[j], m.KTokens[j], len(tc.want[j]))
					}
					if !near(m.Comprehensiveness[j], top) {
						t.Errorf("k=%d%%: comprehensiveness %v, want %v", Ks[j], m.Comprehensiveness[j], top)
					}
					if !near(m.Sufficiency[j], total-top) {
						t.Errorf("k=%d%%: sufficiency %v, want %v", Ks[j], m.Sufficiency[j], total-top)
					}
					aopcC += top / NK
					aopcS += (total - top) / NK
				}
				if !near(m.AOPCComprehensiveness, aopcC) || !near(m.AOPCSufficiency, aopcS) {
					t.Errorf("AOPC %v %v, want %v %v", m.AOPCComprehensiveness, m.AOPCSufficiency, aopcC, aopcS)
				}
			})
		}
	}
}

// TestCurves checks the AUCs against hand-computed trapezoids.
func TestCurves(t *testing.T) {
	t.Run("two tokens", func(t *testing.T) {
		// f: bias 0, w = (3, 1). Deletion 4, 1, 0 at 0, ½, 1: ½·(4+1)/2 + ½·(1+0)/2 = 1.5.
		// Insertion 0, 3, 4: ½·(0+3)/2 + ½·(3+4)/2 = 2.5.
		req := request(2, explanation.MaskAttention)
		m, err := Compute(context.Background(), &additive{t: t, req: req, w: []float64{3, 1}}, req, withSpecials([]float64{3, 1}))
		if err != nil {
			t.Fatal(err)
		}
		if !near(m.DeletionAUC, 1.5) || !near(m.InsertionAUC, 2.5) {
			t.Errorf("deletion %v insertion %v, want 1.5 2.5", m.DeletionAUC, m.InsertionAUC)
		}
		// x, empty, and the one-token deletion and insertion sets.
		if m.Evaluations != 4 {
			t.Errorf("%d evaluations, want 4", m.Evaluations)
		}
	})
	t.Run("linear beyond the step bound", func(t *testing.T) {
		// 120 equal weights 1: f falls linearly along deletion and rises along
		// insertion, so every trapezoid is exact: both AUCs are 120/2.
		n := 120
		w := make([]float64, n)
		attr := make([]float64, n)
		for i := range w {
			w[i], attr[i] = 1, float64(n-i)
		}
		req := request(n, explanation.MaskReplace)
		sc := &additive{t: t, req: req, w: w}
		m, err := Compute(context.Background(), sc, req, withSpecials(attr))
		if err != nil {
			t.Fatal(err)
		}
		if !near(m.DeletionAUC, 60) || !near(m.InsertionAUC, 60) {
			t.Errorf("deletion %v insertion %v, want 60 60", m.DeletionAUC, m.InsertionAUC)
		}
		// Counts ceil(2.4j): x, empty, 49 interior points per curve, and the
		// k counts 2 and 6 (12, 24 and 60 are on the schedule) for both.
		if sc.calls != 1 || m.Evaluations != 2+2*49+2*2 {
			t.Errorf("%d calls, %d evaluations, want 1, 104", sc.calls, m.Evaluations)
		}
	})
}

func TestErrors(t *testing.T) {
	req := request(2, explanation.MaskAttention)
	sc := &additive{t: t, req: req, w: []float64{1, 2}}
	if _, err := Compute(context.Background(), sc, req, []float64{1, 2}); err == nil {
		t.Error("short attributions accepted")
	}
	if _, err := Compute(context.Background(), sc, req, withSpecials([]float64{1, math.NaN()})); !errors.Is(err, explanation.ErrNonFinite) {
		t.Errorf("NaN attribution: %v", err)
	}
	nan := explanation.ScorerFunc(func(_ context.Context, in []explanation.Input) ([]float64, error) {
		out := make([]float64, len(in))
		out[1] = math.Inf(1)
		return out, nil
	})
	if _, err := Compute(context.Background(), nan, req, withSpecials([]float64{1, 2})); !errors.Is(err, explanation.ErrNonFinite) {
		t.Errorf("infinite score: %v", err)
	}
	only := request(0, explanation.MaskAttention)
	if _, err := Compute(context.Background(), sc, only, []float64{0, 0}); err == nil {
		t.Error("no non-special token accepted")
	}
}

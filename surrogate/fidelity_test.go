package surrogate

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

func TestHoldout(t *testing.T) {
	// FNV-1a 64: h = 0xcbf29ce484222325; per byte h ^= b, h *= 0x100000001b3.
	tests := []struct {
		id   string
		hash uint64
	}{
		{"", 0xcbf29ce484222325},          // mod 10 = 7
		{"a", 0xaf63dc4c8601ec8c},         // 6
		{"example-3", 0x44adf0de02ad8bf5}, // 7
		{"example-4", 0x44ade9de02ad8010}, // 0: held out
		{"ex-é", 0x0995cb10fcf26307},      // UTF-8 bytes of é: 7
	}
	for _, tc := range tests {
		h := uint64(0xcbf29ce484222325)
		for _, b := range []byte(tc.id) {
			h ^= uint64(b)
			h *= 0x100000001b3
		}
		if h != tc.hash {
			t.Fatalf("hand FNV-1a of %q = %#x, table says %#x", tc.id, h, tc.hash)
		}
		if got, want := Holdout(tc.id), tc.hash%10 == 0; got != want {
			t.Errorf("Holdout(%q) = %v, want %v", tc.id, got, want)
		}
	}
	n := 0
	for i := 0; i < 10000; i++ {
		if Holdout("id-" + strconv.Itoa(i)) {
			n++
		}
	}
	if n < 900 || n > 1100 {
		t.Errorf("%d of 10000 held out, want about 1000", n)
	}
}

func TestR2AndAccuracy(t *testing.T) {
	y := []float64{3, -0.5, 2, 7}
	yhat := []float64{2.5, 0.0, 2, 8}
	// scikit-learn's r2_score example: 0.9486081370449679.
	var a, b, whole R2Acc
	for i := range y {
		whole.Add(y[i], yhat[i])
		if i%2 == 0 {
			a.Add(y[i], yhat[i])
		} else {
			b.Add(y[i], yhat[i])
		}
	}
	b.Merge(a)
	if !reflect.DeepEqual(b, whole) {
		t.Errorf("merged %+v, want %+v", b, whole)
	}
	if got := whole.R2(); !closeTo(got, 0.9486081370449679, 1e-15, 0) {
		t.Errorf("R2 = %v", got)
	}
	if got := whole.MSE(); got != 0.375 {
		t.Errorf("MSE = %v, want 0.375", got)
	}
	whole.Add(math.NaN(), 1)
	if !math.IsNaN(whole.R2()) {
		t.Error("R2 with a NaN target is not NaN")
	}
	var acc, acc2 AccuracyAcc
	acc.Add(1, 1)
	acc.Add(0, 1)
	acc2.Add(2, 2)
	acc2.Add(0, 0)
	acc.Merge(acc2)
	if acc.Accuracy() != 0.75 || !math.IsNaN((AccuracyAcc{}).Accuracy()) {
		t.Errorf("accuracy %v", acc.Accuracy())
	}
}

func TestAUC(t *testing.T) {
	tests := []struct {
		scores []float64
		pos    []bool
		want   float64
	}{
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75}, // scikit-learn's roc_auc_score example
		{[]float64{0.5, 0.5, 0.5}, []bool{true, false, true}, 0.5},
		{[]float64{0.2, 0.9}, []bool{true, false}, 0},
		{[]float64{0.2, 0.9}, []bool{true, true}, math.NaN()},
	}
	for _, tc := range tests {
		got := AUC(tc.scores, tc.pos)
		if got != tc.want && !(math.IsNaN(got) && math.IsNaN(tc.want)) {
			t.Errorf("AUC(%v) = %v, want %v", tc.scores, got, tc.want)
		}
		var h AUCAcc
		for i, s := range tc.scores {
			h.Add(s, tc.pos[i])
		}
		if hg := h.AUC(); hg != got && !(math.IsNaN(hg) && math.IsNaN(got)) {
			t.Errorf("binned AUC %v, exact %v", hg, got)
		}
	}
	// Random scores: the binned AUC equals the exact AUC of the scores rounded
	// down to the bins, and merging shards changes nothing.
	r := rand.New(rand.NewPCG(40, 41))
	n := 5000
	scores, binned, pos := make([]float64, n), make([]float64, n), make([]bool, n)
	var whole AUCAcc
	shards := make([]AUCAcc, 4)
	for i := range scores {
		pos[i] = r.Float64() < 0.4
		scores[i] = r.Float64()
		if pos[i] {
			scores[i] = math.Sqrt(scores[i])
		}
		binned[i] = math.Floor(scores[i]*AUCBins) / AUCBins
		whole.Add(scores[i], pos[i])
		shards[r.IntN(4)].Add(scores[i], pos[i])
	}
	var merged AUCAcc
	for _, s := range r.Perm(4) {
		merged.Merge(shards[s])
	}
	if !reflect.DeepEqual(merged, whole) {
		t.Error("sharded AUC histogram differs")
	}
	if got, want := whole.AUC(), AUC(binned, pos); got != want {
		t.Errorf("binned AUC %v, exact AUC of binned scores %v", got, want)
	}
	if got, exact := whole.AUC(), AUC(scores, pos); math.Abs(got-exact) > 1e-3 {
		t.Errorf("binned AUC %v far from exact %v", got, exact)
	}
	whole.Add(1.5, true)
	if whole.NonFinite != 1 || !math.IsNaN(whole.AUC()) {
		t.Error("a score outside [0, 1] was not refused")
	}
}

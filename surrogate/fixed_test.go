package surrogate

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// bigSum returns Σ round(v·2^64) as a big.Int, rounding each term with big.Float (to nearest even).
func bigSum(vs []float64) *big.Int {
	s := new(big.Int)
	for _, v := range vs {
		f := new(big.Float).SetPrec(2000).SetFloat64(v)
		f.SetMantExp(f, 64)
		i, acc := f.Int(nil) // truncates toward zero
		frac := new(big.Float).SetPrec(2000).Sub(f, new(big.Float).SetPrec(2000).SetInt(i))
		frac.Abs(frac)
		switch c := frac.Cmp(big.NewFloat(0.5)); {
		case c > 0 || (c == 0 && i.Bit(0) == 1):
			if f.Sign() < 0 {
				i.Sub(i, big.NewInt(1))
			} else {
				i.Add(i, big.NewInt(1))
			}
		}
		_ = acc
		s.Add(s, i)
	}
	return s
}

// bigFloat64 returns the integer times 2^-64 rounded to float64.
func bigFloat64(i *big.Int) float64 {
	f := new(big.Float).SetPrec(2000).SetInt(i)
	f.SetMantExp(f, -64)
	v, _ := f.Float64()
	return v
}

func randomTerms(r *rand.Rand, n int) []float64 {
	vs := make([]float64, n)
	for i := range vs {
		switch r.IntN(5) {
		case 0:
			vs[i] = r.NormFloat64() * math.Ldexp(1, r.IntN(120)-90) // tiny to large
		case 1:
			vs[i] = float64(r.IntN(7)) // counts
		case 2:
			vs[i] = math.Ldexp(float64(r.Int64N(1<<53)), -r.IntN(120)) // exact rounding cases
		case 3:
			vs[i] = -math.Ldexp(1, 54) * r.Float64() // large, but 500 of them stay in range
		default:
			vs[i] = r.NormFloat64()
		}
	}
	return vs
}

func TestFixedMatchesBig(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		vs := randomTerms(r, 1+r.IntN(50))
		var f Fixed
		for _, v := range vs {
			if !f.Add(v) {
				t.Fatalf("Add(%v) refused", v)
			}
		}
		want := bigSum(vs)
		if f.Int().Cmp(want) != 0 {
			t.Fatalf("trial %d: integer %v, want %v", trial, f.Int(), want)
		}
		if got, wantF := f.Float64(), bigFloat64(want); got != wantF {
			t.Fatalf("trial %d: Float64 %v, want %v", trial, got, wantF)
		}
	}
}

func TestFixedRounding(t *testing.T) {
	tests := []struct {
		v      float64
		hi     int64
		lo     uint64
		wantOK bool
	}{
		{0, 0, 0, true},
		{1, 1, 0, true},
		{-1, -1, 0, true},
		{0.5, 0, 1 << 63, true},
		{-0.5, -1, 1 << 63, true},
		{math.Ldexp(1, -64), 0, 1, true},
		{math.Ldexp(1, -65), 0, 0, true},            // tie: rounds to even 0
		{math.Ldexp(3, -65), 0, 2, true},            // 1.5 ulp: tie to even 2
		{math.Ldexp(5, -66), 0, 1, true},            // 1.25 ulp
		{-math.Ldexp(3, -65), -1, ^uint64(1), true}, // −2 ulp
		{math.Ldexp(1, -1074), 0, 0, true},          // subnormal
		{math.Ldexp(1, 62), 1 << 62, 0, true},
		{math.Nextafter(math.Ldexp(1, 63), 0), 1<<63 - 1024, 0, true},
		{math.Ldexp(1, 63), 0, 0, false},
		{-math.Ldexp(1, 63), 0, 0, false},
		{math.Inf(1), 0, 0, false},
		{math.NaN(), 0, 0, false},
	}
	for _, tc := range tests {
		f, ok := FixedOf(tc.v)
		if ok != tc.wantOK || (ok && (f.Hi != tc.hi || f.Lo != tc.lo)) {
			t.Errorf("FixedOf(%v) = %+v, %v; want {%d %d}, %v", tc.v, f, ok, tc.hi, tc.lo, tc.wantOK)
		}
	}
	// Float64 rounds ties to even across the 53-bit boundary, with sticky bits.
	for _, tc := range []struct {
		f    Fixed
		want float64
	}{
		{Fixed{Hi: 1<<53 + 1}, 1 << 53},                  // tie between 2^53 and 2^53+2: to even
		{Fixed{Hi: 1<<53 + 3}, 1<<53 + 4},                // tie: to even (up)
		{Fixed{Hi: 1<<53 + 1, Lo: 1}, 1<<53 + 2},         // a sticky bit above the tie
		{Fixed{Hi: 1 << 53, Lo: 1 << 63}, 1 << 53},       // 2^53 + 0.5
		{Fixed{Hi: -1 << 63, Lo: 0}, -math.Ldexp(1, 63)}, // minimum
		{Fixed{Hi: -1, Lo: ^uint64(0)}, -math.Ldexp(1, -64)},
	} {
		if got := tc.f.Float64(); got != tc.want {
			t.Errorf("%+v.Float64() = %v, want %v", tc.f, got, tc.want)
		}
	}
}

// TestFixedOrderIndependent sums the same terms in random orders and random shardings and requires identical bits.
func TestFixedOrderIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	vs := randomTerms(r, 500)
	var ref Fixed
	for _, v := range vs {
		ref.Add(v)
	}
	for trial := 0; trial < 50; trial++ {
		perm := r.Perm(len(vs))
		shards := make([]Fixed, 1+r.IntN(9))
		for _, i := range perm {
			shards[r.IntN(len(shards))].Add(vs[i])
		}
		// Merge in a random tree order.
		for len(shards) > 1 {
			i, j := r.IntN(len(shards)), r.IntN(len(shards)-1)
			if j >= i {
				j++
			}
			shards[i].Merge(shards[j])
			shards = append(shards[:j], shards[j+1:]...)
		}
		if shards[0] != ref {
			t.Fatalf("trial %d: %+v, want %+v", trial, shards[0], ref)
		}
	}
}

func TestFixedWrapsBackIntoRange(t *testing.T) {
	var f Fixed
	big := math.Ldexp(1, 62)
	for range 4 {
		f.Add(big) // 2^64: outside the range on the way
	}
	for range 4 {
		f.Add(-big)
	}
	f.Add(1.25)
	if got := f.Float64(); got != 1.25 {
		t.Errorf("sum = %v, want 1.25", got)
	}
}

func TestSumNonFinite(t *testing.T) {
	var s, u Sum
	s.Add(1)
	s.Add(2)
	if s.Float64() != 3 {
		t.Fatalf("sum = %v, want 3", s.Float64())
	}
	u.Add(math.NaN())
	u.Add(math.Ldexp(1, 70))
	s.Merge(u)
	if s.NonFinite != 2 || !math.IsNaN(s.Float64()) || s.Value.Float64() != 3 {
		t.Errorf("after refused terms: %+v → %v", s, s.Float64())
	}
}

func TestExactCentred(t *testing.T) {
	// Values with a huge mean and a tiny spread: the float formula would cancel.
	xs := []float64{1e6 + 0.25, 1e6 - 0.25, 1e6 + 0.5, 1e6 - 0.5}
	var sx, sxx Fixed
	for _, x := range xs {
		sx.Add(x)
		sxx.Add(x * x)
	}
	var e exact
	if got := e.centred(sxx, sx, sx, int64(len(xs))); got != 0.625 {
		t.Errorf("centred = %v, want 0.625", got)
	}
	if got := e.mean(sx, 4); got != 1e6 {
		t.Errorf("mean = %v, want 1e6", got)
	}
}

// TestExactFastPathAgrees checks the integer shortcut of centred and mean against the math/big route.
func TestExactFastPathAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 2000; trial++ {
		n := 1 + r.Int64N(1<<20)
		sa, sb := Fixed{Hi: r.Int64N(1<<26) - 1<<25}, Fixed{Hi: r.Int64N(1<<26) - 1<<25}
		sab := Fixed{Hi: r.Int64N(1<<26) - 1<<25}
		var e exact
		got := e.centred(sab, sa, sb, n)
		num := new(big.Int).Mul(big.NewInt(n), big.NewInt(sab.Hi))
		num.Sub(num, new(big.Int).Mul(big.NewInt(sa.Hi), big.NewInt(sb.Hi)))
		if want := quo(num, big.NewInt(n)); got != want {
			t.Fatalf("centred(%d, %d, %d, %d) = %v, want %v", sab.Hi, sa.Hi, sb.Hi, n, got, want)
		}
		if got, want := e.mean(sa, n), quo(big.NewInt(sa.Hi), big.NewInt(n)); got != want {
			t.Fatalf("mean(%d, %d) = %v, want %v", sa.Hi, n, got, want)
		}
	}
}

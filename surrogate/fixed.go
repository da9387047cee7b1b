package surrogate

import (
	"math"
	"math/big"
	"math/bits"
)

// Fixed is an exact sum of float64 values in 128-bit two's-complement fixed point: it holds the integer Hi·2^64 + Lo = Σ round(v·2^64), so its value is that integer times 2^-64.
//
// Range and resolution: the value must stay within [−2^63, 2^63) and each
// term is rounded once, to the nearest multiple of 2^-64 (ties to even),
// when it is added. Addition of the integers is exact and wraps modulo 2^128,
// so a sum is the same bits whatever order and grouping the terms were added
// in, and intermediate totals may even leave the range as long as the final
// total is inside it. Add refuses a non-finite term or one with |v| ≥ 2^63 and
// leaves the sum unchanged; Sum counts such terms and turns into NaN. The zero
// value is 0.
type Fixed struct {
	// Hi is the signed high word: the integer part, floor(value).
	Hi int64
	// Lo is the low word: the fraction times 2^64.
	Lo uint64
}

// fixedOf returns round(v·2^64) as a 128-bit two's-complement integer; ok is false when v is not finite or |v| ≥ 2^63.
func fixedOf(v float64) (hi, lo uint64, ok bool) {
	b := math.Float64bits(v)
	exp := int(b >> 52 & 0x7ff)
	mant := b & (1<<52 - 1)
	if exp == 0x7ff || exp >= 1023+63 {
		return 0, 0, false
	}
	if exp == 0 {
		exp = 1 // subnormal: no implicit bit
	} else {
		mant |= 1 << 52
	}
	// v = ±mant·2^(exp−1075), so v·2^64 = ±mant·2^s.
	s := exp - 1075 + 64
	switch {
	case mant == 0:
	case s >= 64:
		hi = mant << (s - 64)
	case s > 0:
		hi, lo = mant>>(64-s), mant<<s
	case s == 0:
		lo = mant
	case s >= -53:
		r := uint(-s)
		q, rem, half := mant>>r, mant&(1<<r-1), uint64(1)<<(r-1)
		if rem > half || (rem == half && q&1 == 1) {
			q++
		}
		lo = q
	default:
		// mant < 2^53 ≤ 2^(−s−1): the term rounds to 0.
	}
	if b>>63 == 1 {
		hi, lo = neg128(hi, lo)
	}
	return hi, lo, true
}

func neg128(hi, lo uint64) (uint64, uint64) {
	lo, c := bits.Sub64(0, lo, 0)
	hi, _ = bits.Sub64(0, hi, c)
	return hi, lo
}

// FixedOf returns the fixed-point value of v rounded to a multiple of 2^-64; ok is false when v is not finite or |v| ≥ 2^63.
func FixedOf(v float64) (f Fixed, ok bool) {
	hi, lo, ok := fixedOf(v)
	return Fixed{Hi: int64(hi), Lo: lo}, ok
}

// Add adds round(v·2^64)·2^-64 and reports true, or reports false and adds nothing when v is not finite or |v| ≥ 2^63.
func (f *Fixed) Add(v float64) bool {
	hi, lo, ok := fixedOf(v)
	if !ok {
		return false
	}
	var c uint64
	f.Lo, c = bits.Add64(f.Lo, lo, 0)
	f.Hi = int64(uint64(f.Hi) + hi + c)
	return true
}

// Merge adds the sum g to f exactly (modulo 2^128).
func (f *Fixed) Merge(g Fixed) {
	var c uint64
	f.Lo, c = bits.Add64(f.Lo, g.Lo, 0)
	f.Hi = int64(uint64(f.Hi) + uint64(g.Hi) + c)
}

// neg returns −f (modulo 2^128).
func (f Fixed) neg() Fixed {
	hi, lo := neg128(uint64(f.Hi), f.Lo)
	return Fixed{Hi: int64(hi), Lo: lo}
}

// Float64 returns the value correctly rounded to float64 (to nearest, ties to even).
func (f Fixed) Float64() float64 {
	hi, lo := uint64(f.Hi), f.Lo
	neg := f.Hi < 0
	if neg {
		hi, lo = neg128(hi, lo)
	}
	var v float64
	if hi == 0 {
		v = math.Ldexp(float64(lo), -64)
	} else {
		// Keep the top 64 significant bits and fold the rest into a sticky
		// bit, so the one rounding of the uint64 conversion is the correct one.
		n := bits.Len64(hi)
		top, sticky := hi, lo != 0
		if n < 64 {
			top = hi<<(64-n) | lo>>n
			sticky = lo&(1<<n-1) != 0
		}
		if sticky {
			top |= 1
		}
		v = math.Ldexp(float64(top), n-64)
	}
	if neg {
		return -v
	}
	return v
}

// Int returns the exact integer Hi·2^64 + Lo, the value times 2^64.
func (f Fixed) Int() *big.Int {
	z := new(big.Int).SetInt64(f.Hi)
	z.Lsh(z, 64)
	return z.Or(z, new(big.Int).SetUint64(f.Lo))
}

// IsZero reports whether the value is exactly 0.
func (f Fixed) IsZero() bool { return f.Hi == 0 && f.Lo == 0 }

// Sum is a Fixed sum that also counts refused terms (non-finite or |v| ≥ 2^63); the zero value is an empty sum.
type Sum struct {
	// Value is the exact sum of the accepted terms.
	Value Fixed
	// NonFinite counts the refused terms.
	NonFinite int64
}

// Add adds v, or counts it in NonFinite when Fixed refuses it.
func (s *Sum) Add(v float64) {
	if !s.Value.Add(v) {
		s.NonFinite++
	}
}

// Merge adds the sum t to s exactly.
func (s *Sum) Merge(t Sum) {
	s.Value.Merge(t.Value)
	s.NonFinite += t.NonFinite
}

// Float64 returns the sum rounded to float64, or NaN when any term was refused.
func (s Sum) Float64() float64 {
	if s.NonFinite > 0 {
		return math.NaN()
	}
	return s.Value.Float64()
}

// exact evaluates expressions of Fixed sums and counts with math/big and rounds only the final result; its scratch values are reused between calls.
type exact struct {
	a, b, c, d big.Int
	x, y, q    big.Float
}

// setFixed stores f's integer (the value times 2^64) in z.
func setFixed(z *big.Int, f Fixed) *big.Int {
	z.SetInt64(f.Hi)
	z.Lsh(z, 64)
	var lo big.Int
	lo.SetUint64(f.Lo)
	return z.Add(z, &lo)
}

// quo returns num/den correctly rounded to float64.
func quo(num, den *big.Int) float64 {
	var e exact
	return e.quo(num, den)
}

// quo returns num/den correctly rounded to float64, using e's scratch values.
func (e *exact) quo(num, den *big.Int) float64 {
	if num.Sign() == 0 {
		return 0
	}
	// Exact conversions (precision ≥ the bit lengths), then one rounding.
	e.x.SetPrec(uint(max(num.BitLen(), 64))).SetInt(num)
	e.y.SetPrec(uint(max(den.BitLen(), 64))).SetInt(den)
	v, _ := e.q.SetPrec(53).Quo(&e.x, &e.y).Float64()
	return v
}

// mean returns s/n correctly rounded (NaN when n is 0).
func (e *exact) mean(s Fixed, n int64) float64 {
	if n == 0 {
		return math.NaN()
	}
	if s.Lo == 0 && inRange(s.Hi, 1<<53) && n < 1<<53 {
		return float64(s.Hi) / float64(n) // exact operands, one rounding
	}
	setFixed(&e.a, s)
	e.b.SetInt64(n)
	e.b.Lsh(&e.b, 64)
	return e.quo(&e.a, &e.b)
}

func inRange(v, lim int64) bool { return v > -lim && v < lim }

// centred returns the centred cross-product Σ(a−ā)(b−b̄) = sab − sa·sb/n from the exact sums, rounded once:
//
//	(n·sab·2^64 − sa·sb) / (n·2^128) in the Fixed integers.
func (e *exact) centred(sab, sa, sb Fixed, n int64) float64 {
	if n == 0 {
		return 0
	}
	const small = 1 << 26
	if sab.Lo == 0 && sa.Lo == 0 && sb.Lo == 0 && n < small && inRange(sab.Hi, small) && inRange(sa.Hi, small) && inRange(sb.Hi, small) {
		// Integer sums (binary or count features): the numerator is an exact
		// integer below 2^53, so one float64 division is the correct rounding.
		return float64(n*sab.Hi-sa.Hi*sb.Hi) / float64(n)
	}
	setFixed(&e.a, sab)
	e.b.SetInt64(n)
	e.a.Mul(&e.a, &e.b)
	e.a.Lsh(&e.a, 64)
	setFixed(&e.c, sa)
	setFixed(&e.d, sb)
	e.c.Mul(&e.c, &e.d)
	e.a.Sub(&e.a, &e.c)
	e.b.Lsh(&e.b, 128)
	return e.quo(&e.a, &e.b)
}

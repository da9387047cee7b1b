package prototypes

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSelect times MMD-critic (10 prototypes, 5 criticisms) on one
// class's default reservoir of 2,000 candidates.
//
//	go test ./prototypes -run '^$' -bench Select -benchtime 1x
func BenchmarkSelect(b *testing.B) {
	for _, d := range []int{16, 384} {
		b.Run(fmt.Sprintf("n2000-d%d", d), func(b *testing.B) {
			pts := randomPoints(rand.New(rand.NewPCG(1, 1)), 2000, d)
			for b.Loop() {
				if _, err := Select(context.Background(), pts, Params{Prototypes: 10, Criticisms: 5}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReservoir adds 100,000 examples to one reservoir of 2,000.
func BenchmarkReservoir(b *testing.B) {
	exs := make([]Example, 100_000)
	for i := range exs {
		exs[i] = Example{ID: fmt.Sprintf("ex-%07d", i), Vector: make([]float32, 16)}
	}
	for b.Loop() {
		r := NewReservoir(2000, 1)
		for _, e := range exs {
			r.Add(e)
		}
		r.Compact()
	}
}

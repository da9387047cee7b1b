package neighbours

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// BenchmarkSearch times one query against 10,000 references, exactly and
// with HNSW (default parameters), and reports HNSW's recall@5 over 200
// queries and its build time.
//
//	go test ./neighbours -run '^$' -bench Search
func BenchmarkSearch(b *testing.B) {
	for _, d := range []int{16, 384} {
		refs := clustered(rand.New(rand.NewPCG(2, 3)), 10_000, d)
		exact, err := NewExact(refs)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("exact-d%d", d), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := exact.Search(refs[i%len(refs)].Vector, 5, refs[i%len(refs)].ID); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("hnsw-d%d", d), func(b *testing.B) {
			h, err := NewHNSW(context.Background(), refs, DefaultHNSW())
			if err != nil {
				b.Fatal(err)
			}
			r, err := MeasureRecall(h, exact, refs, 5, 200)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(r, "recall@5")
			i := 0
			for b.Loop() {
				if _, err := h.Search(refs[i%len(refs)].Vector, 5, refs[i%len(refs)].ID); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

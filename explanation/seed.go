package explanation

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
)

// Seed derives the per-example seed from the run seed and the example id, so
// a rerun makes the same random choices whatever order workers see rows in.
func Seed(runSeed uint64, exampleID string) uint64 {
	h := sha256.New()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], runSeed)
	h.Write(b[:])
	h.Write([]byte(exampleID))
	sum := h.Sum(nil)
	return binary.LittleEndian.Uint64(sum[:8])
}

// NewRand returns a deterministic generator for a derived seed and a method name,
// so two methods on the same example draw independent streams.
func NewRand(seed uint64, method string) *rand.Rand {
	h := sha256.Sum256([]byte(method))
	return rand.New(rand.NewPCG(seed, binary.LittleEndian.Uint64(h[:8])))
}

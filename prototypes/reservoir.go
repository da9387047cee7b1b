package prototypes

import (
	"bytes"
	"cmp"
	"encoding/gob"
	"fmt"
	"slices"
	"strings"

	"github.com/glassbox-ai/glassbox/explanation"
)

// Example is one explained example as the example-based explanations keep
// it: its pooled representation, prediction and gold label.
type Example struct {
	// ID is the example id.
	ID string
	// Text is the input text.
	Text string
	// Predicted is the predicted label's name.
	Predicted string
	// Confidence is the predicted label's probability.
	Confidence float64
	// Gold is the gold label's name, "" when the data has none.
	Gold string
	// Vector is the pooled representation (see explainer's pooling).
	Vector []float32
}

// Stratum kinds: the reservoirs an example enters.
const (
	// ByPredicted groups examples by predicted label.
	ByPredicted = "predicted"
	// ByGold groups examples by gold label (examples with one).
	ByGold = "gold"
	// ByReference is the one reservoir of the whole corpus that neighbours are searched in.
	ByReference = "reference"
)

// Stratum is one reservoir: a kind and, for ByPredicted and ByGold, a label.
type Stratum struct {
	// By is ByPredicted, ByGold or ByReference.
	By string
	// Class is the label ("" for ByReference).
	Class string
}

// Key returns the stratum as one string (By, a 0 byte, Class), the Beam key.
func (s Stratum) Key() string { return s.By + "\x00" + s.Class }

// ParseStratum inverts Key.
func ParseStratum(key string) (Stratum, error) {
	by, class, ok := strings.Cut(key, "\x00")
	if !ok || (by != ByPredicted && by != ByGold && by != ByReference) {
		return Stratum{}, fmt.Errorf("stratum key %q: want predicted, gold or reference, a 0 byte and a label", key)
	}
	return Stratum{By: by, Class: class}, nil
}

// Strata returns the reservoirs e enters: its predicted label's, its gold
// label's when it has one, and the reference set when reference is set.
func Strata(e Example, reference bool) []Stratum {
	out := []Stratum{{By: ByPredicted, Class: e.Predicted}}
	if e.Gold != "" {
		out = append(out, Stratum{By: ByGold, Class: e.Gold})
	}
	if reference {
		out = append(out, Stratum{By: ByReference})
	}
	return out
}

// Entry is a reservoir member with its priority.
type Entry struct {
	Priority uint64
	Example  Example
}

// Reservoir keeps the Cap examples with the smallest priority
// explanation.Seed(seed, id) (ties by id) of all it was given: a seeded
// uniform sample without replacement that does not depend on the order
// examples arrive in or how partial reservoirs are merged, since it is a
// function of the set alone. An id met twice is kept once.
type Reservoir struct {
	// Cap is the most examples kept.
	Cap int
	// Seed is the run seed priorities derive from.
	Seed uint64
	// Entries are the examples kept; sorted and at most Cap after Compact.
	Entries []Entry
}

// NewReservoir returns an empty reservoir of capacity cap.
func NewReservoir(capacity int, seed uint64) *Reservoir {
	return &Reservoir{Cap: capacity, Seed: seed}
}

// Add offers e to the reservoir.
func (r *Reservoir) Add(e Example) {
	r.Entries = append(r.Entries, Entry{Priority: explanation.Seed(r.Seed, e.ID), Example: e})
	if len(r.Entries) >= 2*max(r.Cap, 1) {
		r.Compact()
	}
}

// Merge adds every example of o (same capacity and seed; an empty zero
// Reservoir takes o's). Like Add it compacts only when twice the capacity is
// held, so merging many small reservoirs costs O(log Cap) per example.
func (r *Reservoir) Merge(o *Reservoir) error {
	if r.Cap == 0 && len(r.Entries) == 0 {
		r.Cap, r.Seed = o.Cap, o.Seed
	}
	if o.Cap == 0 && len(o.Entries) == 0 {
		return nil
	}
	if o.Cap != r.Cap || o.Seed != r.Seed {
		return fmt.Errorf("merge reservoirs of capacity/seed %d/%d and %d/%d", r.Cap, r.Seed, o.Cap, o.Seed)
	}
	r.Entries = append(r.Entries, o.Entries...)
	if len(r.Entries) >= 2*max(r.Cap, 1) {
		r.Compact()
	}
	return nil
}

// Compact sorts by (priority, id), drops repeated ids and keeps the first Cap.
func (r *Reservoir) Compact() {
	slices.SortFunc(r.Entries, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), strings.Compare(a.Example.ID, b.Example.ID))
	})
	r.Entries = slices.CompactFunc(r.Entries, func(a, b Entry) bool { return a.Example.ID == b.Example.ID })
	if len(r.Entries) > r.Cap {
		clear(r.Entries[r.Cap:])
		r.Entries = r.Entries[:r.Cap]
	}
}

// Examples returns the kept examples in id order.
func (r *Reservoir) Examples() []Example {
	r.Compact()
	out := make([]Example, len(r.Entries))
	for i, e := range r.Entries {
		out[i] = e.Example
	}
	slices.SortFunc(out, func(a, b Example) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Encode gob-encodes the reservoir, compacted.
func (r *Reservoir) Encode() ([]byte, error) {
	r.Compact()
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(r); err != nil {
		return nil, fmt.Errorf("encode reservoir: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeReservoir decodes Encode's bytes.
func DecodeReservoir(b []byte) (*Reservoir, error) {
	r := &Reservoir{}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(r); err != nil {
		return nil, fmt.Errorf("decode reservoir: %w", err)
	}
	return r, nil
}

package transforms

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/glassbox-ai/glassbox/audit"
	"github.com/glassbox-ai/glassbox/faithfulness"
	"github.com/glassbox-ai/glassbox/parquetsink"
	"github.com/glassbox-ai/glassbox/schemas"
)

// Summaries are the corpus-wide aggregates whose keys are few (a method, a
// pair of methods, a target): faithfulness per method and target, and method
// agreement per pair and target. ExplainFn emits one per bundle; MergeSummaries
// combines them exactly, so the files do not depend on the merge order.
type Summaries struct {
	// Faithfulness holds faithfulness.parquet's accumulators.
	Faithfulness map[faithfulness.Key]faithfulness.Acc
	// Agreement holds agreement_summary.parquet's accumulators.
	Agreement map[audit.AgreementKey]audit.AgreementAcc
}

// newSummaries returns empty summaries.
func newSummaries() Summaries {
	return Summaries{Faithfulness: map[faithfulness.Key]faithfulness.Acc{}, Agreement: map[audit.AgreementKey]audit.AgreementAcc{}}
}

// add merges the accumulators faith and agree into s.
func (s Summaries) add(faith map[faithfulness.Key]faithfulness.Acc, agree map[audit.AgreementKey]audit.AgreementAcc) {
	for k, a := range faith {
		s.Faithfulness[k] = s.Faithfulness[k].Merge(a)
	}
	for k, a := range agree {
		s.Agreement[k] = s.Agreement[k].Merge(a)
	}
}

func (s Summaries) empty() bool { return len(s.Faithfulness) == 0 && len(s.Agreement) == 0 }

// summariesJSON is Summaries' encoding: maps with struct keys become sorted
// lists, so equal summaries encode to equal bytes.
type summariesJSON struct {
	Faithfulness []faithEntry `json:"faithfulness,omitempty"`
	Agreement    []agreeEntry `json:"agreement,omitempty"`
}

type faithEntry struct {
	Key faithfulness.Key
	Acc faithfulness.Acc
}

type agreeEntry struct {
	Key audit.AgreementKey
	Acc audit.AgreementAcc
}

func (s Summaries) encode() ([]byte, error) {
	var j summariesJSON
	for k, a := range s.Faithfulness {
		j.Faithfulness = append(j.Faithfulness, faithEntry{k, a})
	}
	slices.SortFunc(j.Faithfulness, func(x, y faithEntry) int {
		return cmp.Or(cmp.Compare(x.Key.Method, y.Key.Method), cmp.Compare(x.Key.Target, y.Key.Target))
	})
	for k, a := range s.Agreement {
		j.Agreement = append(j.Agreement, agreeEntry{k, a})
	}
	slices.SortFunc(j.Agreement, func(x, y agreeEntry) int {
		return cmp.Or(cmp.Compare(x.Key.MethodA, y.Key.MethodA), cmp.Compare(x.Key.MethodB, y.Key.MethodB), cmp.Compare(x.Key.Target, y.Key.Target))
	})
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("encode summaries: %w", err)
	}
	return b, nil
}

// decodeSummaries decodes encoded Summaries; no bytes (a combine's empty
// accumulator) are empty summaries.
func decodeSummaries(b []byte) (Summaries, error) {
	if len(b) == 0 {
		return newSummaries(), nil
	}
	var j summariesJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return Summaries{}, fmt.Errorf("decode summaries: %w", err)
	}
	s := newSummaries()
	for _, e := range j.Faithfulness {
		s.Faithfulness[e.Key] = s.Faithfulness[e.Key].Merge(e.Acc)
	}
	for _, e := range j.Agreement {
		s.Agreement[e.Key] = s.Agreement[e.Key].Merge(e.Acc)
	}
	return s, nil
}

// MergeSummaries is the combine function of encoded Summaries: exact, so any merge order gives the same bytes.
func MergeSummaries(a, b []byte) ([]byte, error) {
	sa, err := decodeSummaries(a)
	if err != nil {
		return nil, err
	}
	sb, err := decodeSummaries(b)
	if err != nil {
		return nil, err
	}
	sa.add(sb.Faithfulness, sb.Agreement)
	return sa.encode()
}

// WriteSummariesFn writes the merged summaries, a side input of at most one
// encoded Summaries, to faithfulness.parquet and agreement_summary.parquet
// in Dir (each only when asked for, and then even when empty); it runs once,
// on an impulse.
type WriteSummariesFn struct {
	// Dir is the output folder (local or URL).
	Dir string
	// RunID is written on every row.
	RunID string
	// Faithfulness says whether to write faithfulness.parquet.
	Faithfulness bool
	// Agreement says whether to write agreement_summary.parquet.
	Agreement bool
}

// ProcessElement writes the files.
func (f *WriteSummariesFn) ProcessElement(ctx context.Context, _ []byte, merged func(*[]byte) bool) error {
	s := newSummaries()
	var b []byte
	for merged(&b) {
		d, err := decodeSummaries(b)
		if err != nil {
			return err
		}
		s.add(d.Faithfulness, d.Agreement)
	}
	if f.Faithfulness {
		var rows []faithfulness.Row
		for k, a := range s.Faithfulness {
			rows = append(rows, faithfulness.Finalize(k, a)...)
		}
		faithfulness.SortRows(rows)
		out := make([]schemas.FaithfulnessRow, len(rows))
		for i, r := range rows {
			out[i] = r.Schema(f.RunID)
		}
		path := JoinPath(f.Dir, schemas.FaithfulnessFile)
		if err := parquetsink.WriteRows(ctx, FileSystemFor(path), path, out); err != nil {
			return err
		}
		rowsWritten.Inc(ctx, int64(len(out)))
	}
	if f.Agreement {
		out := audit.AgreementSummaries(f.RunID, s.Agreement)
		path := JoinPath(f.Dir, schemas.AgreementSummaryFile)
		if err := parquetsink.WriteRows(ctx, FileSystemFor(path), path, out); err != nil {
			return err
		}
		rowsWritten.Inc(ctx, int64(len(out)))
	}
	return nil
}

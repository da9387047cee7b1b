package pipelines

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/surrogate"
	"github.com/glassbox-ai/glassbox/transforms"
)

// SurrogateOutputs are the results of fitting the surrogates.
type SurrogateOutputs struct {
	// Design are KV<example id, surrogate.Design JSON>: the design matrix.
	Design beam.PCollection
	// Vocab is the vocabulary (one JSON list of words; empty for an empty corpus).
	Vocab beam.PCollection
	// State is the final fits (one gob surrogate.State).
	State beam.PCollection
	// Fidelity are KV<spec key, gob surrogate.FidelityAcc>, merged.
	Fidelity beam.PCollection
}

// FitSurrogates fits the plan's surrogates (plan: an encoded surrogate.Plan)
// on examples (KV<example id, surrogate.Example JSON>): a document-frequency
// combine chooses the vocabulary, which every example is encoded against
// (side input); then plan.Passes() fitting passes are unrolled in the graph,
// each accumulating per bundle against the current fits (side input), merging
// the partials per fit with a merge-only combine and stepping every fit once;
// a last pass measures fidelity on the held-out examples. Every merge is
// exact, so the fits do not depend on sharding or bundling.
func FitSurrogates(s beam.Scope, examples beam.PCollection, plan []byte) (SurrogateOutputs, error) {
	s = s.Scope("FitSurrogates")
	p, err := surrogate.ParsePlan(plan)
	if err != nil {
		return SurrogateOutputs{}, err
	}
	vs := s.Scope("Vocabulary")
	df := beam.ParDo(vs, &transforms.SurrogateDocFreqFn{Bigrams: p.Config.Bigrams}, examples)
	df = beam.CombinePerKey(vs, &transforms.MergeDocFreqFn{}, df)
	vocab := beam.ParDo(vs, &transforms.SurrogateVocabFn{K: p.Config.VocabSize}, df)

	design := beam.ParDo(s.Scope("Design"), &transforms.SurrogateDesignFn{Plan: plan}, examples, beam.SideInput{Input: vocab})
	state := beam.ParDo(s.Scope("Init"), &transforms.SurrogateInitFn{Plan: plan}, beam.Impulse(s), beam.SideInput{Input: vocab})
	for i := range p.Passes() {
		ps := s.Scope(fmt.Sprintf("Pass%02d", i+1))
		accs := beam.ParDo(ps, &transforms.SurrogatePassFn{}, design, beam.SideInput{Input: state})
		accs = beam.CombinePerKey(ps, &transforms.MergeSurrogateAccFn{}, accs)
		state = beam.ParDo(ps, &transforms.SurrogateUpdateFn{Plan: plan}, beam.Impulse(ps), beam.SideInput{Input: state}, beam.SideInput{Input: accs})
	}
	fs := s.Scope("Fidelity")
	fid := beam.ParDo(fs, &transforms.SurrogateFidelityFn{}, design, beam.SideInput{Input: state})
	fid = beam.CombinePerKey(fs, &transforms.MergeFidelityFn{}, fid)
	return SurrogateOutputs{Design: design, Vocab: vocab, State: state, Fidelity: fid}, nil
}

// WriteSurrogates writes dir/surrogates.parquet and dir/surrogates.json (one
// row per fit) and the design matrix to dir/surrogate_examples-SSSSS-of-NNNNN.parquet.
func WriteSurrogates(s beam.Scope, dir, runID string, shards int, plan []byte, out SurrogateOutputs) {
	s = s.Scope("WriteSurrogates")
	beam.ParDo0(s, &transforms.WriteSurrogatesFn{Plan: plan, Dir: dir, RunID: runID}, beam.Impulse(s),
		beam.SideInput{Input: out.State}, beam.SideInput{Input: out.Fidelity}, beam.SideInput{Input: out.Vocab})
	WriteShards(s, out.Design, shards, &transforms.WriteSurrogateExamplesFn{Dir: dir, Shards: shards, RunID: runID})
}

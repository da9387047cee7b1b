package pipelines

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/transforms"
)

// ExplainJob is everything the explain pipeline needs, decided before it is built.
type ExplainJob struct {
	// Spec is the encoded explainer.Spec the workers open their explainer from.
	Spec []byte
	// Files are the input files (local paths or URLs), already listed.
	Files []string
	// Dir is the launcher's working directory, which relative local Files are opened against.
	Dir string
	// Format is the input format, "" for by extension.
	Format string
	// TextField, IDField and LabelField name the input fields.
	TextField, IDField, LabelField string
	// RunID is written on every row.
	RunID string
	// Output is the output directory (local or URL).
	Output string
	// Shards is the number of explanation (and attention) shards.
	Shards int
	// Buffer is how many records a worker explains together.
	Buffer int
	// AttentionMatrices says whether to write the attention matrix files.
	AttentionMatrices bool
	// AttentionStats says whether to write the attention statistics files (the attention method).
	AttentionStats bool
	// PerExample says whether per-example methods run (false: predictions only, for surrogates).
	PerExample bool
	// Surrogates is the encoded surrogate.Plan; nil fits no surrogate.
	Surrogates []byte
	// Faithfulness says whether rows are measured for faithfulness (faithfulness.parquet).
	Faithfulness bool
	// Agreement says whether two or more methods run, so method agreement is written.
	Agreement bool
	// Counterfactuals says whether the counterfactual search runs (counterfactuals-*.parquet).
	Counterfactuals bool
	// Generations says whether the job continues its texts (task generation), so generations.parquet is written.
	Generations bool
	// Examples is the JSON of the job's examples section (prototypes.Config); nil computes no example-based explanations.
	Examples []byte
	// Seed is the run seed (the reservoirs' priorities derive from it).
	Seed uint64
	// Neighbours and Embeddings say which per-example files the examples section writes.
	Neighbours, Embeddings bool
}

// BuildExplain constructs the explain pipeline from its composites: read the
// corpus, explain it, and write each output.
func BuildExplain(job ExplainJob) (*beam.Pipeline, error) {
	if len(job.Files) == 0 {
		return nil, fmt.Errorf("explain pipeline: no input files")
	}
	if job.Shards <= 0 {
		job.Shards = 1
	}
	p, s := beam.NewPipelineWithRoot()

	files := beam.CreateList(s.Scope("ListInputs"), job.Files)
	corpus := ReadCorpus(s, files, transforms.ReadFileFn{RunID: job.RunID, Dir: job.Dir, Format: job.Format, TextField: job.TextField, IDField: job.IDField, LabelField: job.LabelField})
	out := ExplainExamples(s, corpus.Records, job.Spec, job.Buffer)

	WriteExplanations(s, job.Output, job.Shards, out.Explanations)
	if job.AttentionMatrices {
		WriteAttentionMatrices(s, job.Output, job.Shards, out.AttentionMatrices)
	}
	if job.AttentionStats {
		WriteAttentionStats(s, job.Output, job.Shards, out.AttentionStats)
	}
	if job.Agreement {
		WriteSorted(s.Scope("WriteAgreement"), job.Output, transforms.KindAgreement, job.Shards, out.Agreement)
	}
	if job.Counterfactuals {
		WriteSorted(s.Scope("WriteCounterfactuals"), job.Output, transforms.KindCounterfactuals, job.Shards, out.Counterfactuals)
	}
	if job.Faithfulness || job.Agreement {
		WriteSummaries(s, job.Output, job.RunID, job.Faithfulness, job.Agreement, out.Summaries)
	}
	if job.Generations {
		WriteGenerations(s, job.Output, out.Generations)
	}
	WriteErrors(s, job.Output, corpus.Errors, out.Errors)
	WriteGlobalImportance(s, job.Output, job.RunID, GlobalImportance(s, out.Contributions))
	if job.Surrogates != nil {
		fits, err := FitSurrogates(s, out.SurrogateExamples, job.Surrogates)
		if err != nil {
			return nil, err
		}
		WriteSurrogates(s, job.Output, job.RunID, job.Shards, job.Surrogates, fits)
	}
	if job.Examples != nil {
		if err := ExampleBased(s, job.Output, job.RunID, job.Shards, job.Seed, job.Examples, out.Representations); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// ReadOutputs are the two results of reading the corpus.
type ReadOutputs struct {
	// Records are the parsed input rows (transforms.Record).
	Records beam.PCollection
	// Errors are the encoded schemas.ErrorRow of bad rows and unreadable files.
	Errors beam.PCollection
}

// ReadCorpus reads and parses every input file of files (a PCollection of
// paths or URLs) as read says; bad rows go to Errors instead of failing the job.
func ReadCorpus(s beam.Scope, files beam.PCollection, read transforms.ReadFileFn) ReadOutputs {
	s = s.Scope("ReadCorpus")
	records, errs := beam.ParDo2(s, &read, files)
	return ReadOutputs{Records: records, Errors: errs}
}

// ExplainOutputs are the results of explaining the corpus; rows travel as JSON
// (transforms' encoding), and the row outputs are keyed by example id.
type ExplainOutputs struct {
	// Explanations are KV<example id, encoded schemas.ExplanationRow>.
	Explanations beam.PCollection
	// Errors are the encoded schemas.ErrorRow of records that failed.
	Errors beam.PCollection
	// Contributions are KV<importance key, importance.Acc>, one per example and word.
	Contributions beam.PCollection
	// AttentionMatrices are KV<example id, encoded schemas.AttentionMatrixRow>.
	AttentionMatrices beam.PCollection
	// AttentionStats are KV<example id, encoded schemas.AttentionStatRow>.
	AttentionStats beam.PCollection
	// SurrogateExamples are KV<example id, surrogate.Example JSON> (empty unless the spec asks for surrogates).
	SurrogateExamples beam.PCollection
	// Agreement are KV<example id, encoded schemas.AgreementRow>.
	Agreement beam.PCollection
	// Representations are KV<example id, encoded prototypes.Example> (empty unless the spec asks for representations).
	Representations beam.PCollection
	// Summaries are encoded transforms.Summaries, one per bundle.
	Summaries beam.PCollection
	// Counterfactuals are KV<example id, encoded schemas.CounterfactualRow>.
	Counterfactuals beam.PCollection
	// Generations are KV<example id, encoded schemas.GenerationRow> (task generation).
	Generations beam.PCollection
}

// ExplainExamples explains records with the explainer spec opens, buffer
// records at a time per worker.
func ExplainExamples(s beam.Scope, records beam.PCollection, spec []byte, buffer int) ExplainOutputs {
	s = s.Scope("ExplainExamples")
	// Files are few and rows many: spread rows over workers before the expensive stage.
	records = beam.Reshuffle(s, records)
	outs := beam.ParDoN(s, &transforms.ExplainFn{Spec: spec, Buffer: buffer}, records)
	return ExplainOutputs{Explanations: outs[0], Errors: outs[1], Contributions: outs[2], AttentionMatrices: outs[3], AttentionStats: outs[4], SurrogateExamples: outs[5], Agreement: outs[6], Summaries: outs[7], Counterfactuals: outs[8], Generations: outs[9], Representations: outs[10]}
}

package pipelines

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/glassbox-ai/glassbox/schemas"
	"github.com/glassbox-ai/glassbox/transforms"
)

// ExplainJob is everything the explain pipeline needs, decided before it is built.
type ExplainJob struct {
	// Spec is the encoded explainer.Spec the workers open their explainer from.
	Spec []byte
	// Files are the input files (local paths or URLs), already listed.
	Files []string
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
}

// BuildExplain constructs the explain pipeline.
func BuildExplain(job ExplainJob) (*beam.Pipeline, error) {
	if len(job.Files) == 0 {
		return nil, fmt.Errorf("explain pipeline: no input files")
	}
	if job.Shards <= 0 {
		job.Shards = 1
	}
	p, s := beam.NewPipelineWithRoot()

	files := beam.CreateList(s.Scope("list"), job.Files)
	read := s.Scope("read")
	records, readErrs := beam.ParDo2(read, &transforms.ReadFileFn{RunID: job.RunID, Format: job.Format, TextField: job.TextField, IDField: job.IDField, LabelField: job.LabelField}, files)
	// Files are few and rows many: spread rows over workers before the expensive stage.
	records = beam.Reshuffle(read, records)

	ex := s.Scope("explain")
	outs := beam.ParDoN(ex, &transforms.ExplainFn{Spec: job.Spec, Buffer: job.Buffer}, records)
	rows, explainErrs, contributions, matrices, stats := outs[0], outs[1], outs[2], outs[3], outs[4]

	out := s.Scope("write")
	beam.ParDo0(out.Scope("explanations"), &transforms.WriteShardFn{Dir: job.Output, Kind: transforms.KindExplanations, Shards: job.Shards}, beam.GroupByKey(out, rows))
	if job.AttentionMatrices {
		beam.ParDo0(out.Scope("attention"), &transforms.WriteShardFn{Dir: job.Output, Kind: transforms.KindAttention, Shards: job.Shards}, beam.GroupByKey(out, matrices))
	}
	if job.AttentionStats {
		beam.ParDo0(out.Scope("attention_stats"), &transforms.WriteShardFn{Dir: job.Output, Kind: transforms.KindStats, Shards: job.Shards}, beam.GroupByKey(out, stats))
	}

	// Single files are written from an impulse with the rows as a side input, so
	// they exist (possibly empty) even when nothing failed.
	once := beam.Impulse(out)
	errs := beam.Flatten(out, readErrs, explainErrs)
	beam.ParDo0(out.Scope("errors"), &transforms.WriteSingleFn{Path: transforms.JoinPath(job.Output, schemas.ErrorsFile), Kind: transforms.KindErrors, RunID: job.RunID}, once, beam.SideInput{Input: errs})

	imp := s.Scope("global_importance")
	combined := beam.CombinePerKey(imp, transforms.MergeImportance, contributions)
	impRows := beam.ParDo(imp, transforms.FinalizeImportance, combined)
	beam.ParDo0(imp, &transforms.WriteSingleFn{Path: transforms.JoinPath(job.Output, schemas.GlobalImportanceFile), Kind: transforms.KindImportance, RunID: job.RunID}, once, beam.SideInput{Input: impRows})
	return p, nil
}

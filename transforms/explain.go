package transforms

import (
	"context"
	"fmt"
	"sync"

	"github.com/glassbox-ai/glassbox/corpus"
	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/surrogate"
)

// ExplainFn explains records with the process's shared explainer (one ONNX
// Runtime session per worker process, opened in Setup, released in Teardown),
// batching the records of a bundle so inference runs on length-grouped batches.
// Its outputs, in order: explanation rows, error rows, importance
// contributions, attention matrix rows, attention statistics rows,
// surrogate examples (surrogate.Example JSON, only when the spec asks for
// surrogates), method agreement rows, the bundle's encoded Summaries,
// counterfactual rows, generation rows (task generation) and representations
// (encoded prototypes.Example, only when the spec asks for them); the row
// outputs are keyed by example id, which is all the sharding downstream needs.
type ExplainFn struct {
	// Spec is the JSON of the explainer.Spec (config in force, run id, graph to load).
	Spec []byte
	// Buffer is how many records are gathered before they are explained together.
	Buffer int

	ex      *explainer.Explainer
	release func()
	buf     []Record
	// imp merges the bundle's importance contributions before they are
	// emitted: one accumulator per key and bundle rather than per batch, so
	// what crosses to the combine is bounded by the vocabulary, not the
	// corpus (the runner's own lifting keeps too few keys for a vocabulary).
	imp map[string]importance.Acc
	// sums merges the bundle's faithfulness and agreement aggregates, emitted once at its end.
	sums Summaries
}

// maxBundleKeys bounds the contributions ExplainFn holds: past it they are
// emitted early, as a combiner's lifting cache would.
const maxBundleKeys = 200_000

// Setup acquires the process's explainer.
func (f *ExplainFn) Setup() error {
	ex, release, err := acquireExplainer(f.Spec)
	if err != nil {
		return err
	}
	f.ex, f.release = ex, release
	return nil
}

// StartBundle starts an empty buffer.
func (f *ExplainFn) StartBundle(_ context.Context, _ func(string, []byte), _ func([]byte), _ func(string, importance.Acc), _ func(string, []byte), _ func(string, []byte), _ func(string, []byte), _ func(string, []byte), _ func([]byte), _, _, _ func(string, []byte)) {
	f.buf = f.buf[:0]
	f.imp = map[string]importance.Acc{}
	f.sums = newSummaries()
}

// ProcessElement buffers a record and explains the buffer when it is full.
func (f *ExplainFn) ProcessElement(ctx context.Context, r Record, emitRow func(string, []byte), emitErr func([]byte), emitImp func(string, importance.Acc), emitAttn func(string, []byte), emitStats func(string, []byte), emitSur func(string, []byte), emitAgree func(string, []byte), emitSum func([]byte), emitCF, emitGen, emitRep func(string, []byte)) error {
	f.buf = append(f.buf, r)
	if len(f.buf) >= max(1, f.Buffer) {
		return f.flush(ctx, emitRow, emitErr, emitImp, emitAttn, emitStats, emitSur, emitAgree, emitCF, emitGen, emitRep)
	}
	return nil
}

// FinishBundle explains what is left in the buffer.
func (f *ExplainFn) FinishBundle(ctx context.Context, emitRow func(string, []byte), emitErr func([]byte), emitImp func(string, importance.Acc), emitAttn func(string, []byte), emitStats func(string, []byte), emitSur func(string, []byte), emitAgree func(string, []byte), emitSum func([]byte), emitCF, emitGen, emitRep func(string, []byte)) error {
	if err := f.flush(ctx, emitRow, emitErr, emitImp, emitAttn, emitStats, emitSur, emitAgree, emitCF, emitGen, emitRep); err != nil {
		return err
	}
	f.emitImportance(emitImp)
	if f.sums.empty() {
		return nil
	}
	b, err := f.sums.encode()
	if err != nil {
		return err
	}
	emitSum(b)
	f.sums = newSummaries()
	return nil
}

// emitImportance emits and forgets the bundle's merged contributions.
func (f *ExplainFn) emitImportance(emitImp func(string, importance.Acc)) {
	for k, acc := range f.imp {
		emitImp(k, acc)
	}
	clear(f.imp)
}

// Teardown releases the process's explainer.
func (f *ExplainFn) Teardown() error {
	if f.release != nil {
		f.release()
		f.release = nil
	}
	return nil
}

func (f *ExplainFn) flush(ctx context.Context, emitRow func(string, []byte), emitErr func([]byte), emitImp func(string, importance.Acc), emitAttn func(string, []byte), emitStats func(string, []byte), emitSur func(string, []byte), emitAgree func(string, []byte), emitCF, emitGen, emitRep func(string, []byte)) error {
	if len(f.buf) == 0 {
		return nil
	}
	recs := make([]corpus.Record, len(f.buf))
	for i, r := range f.buf {
		recs[i] = r.toCorpus()
	}
	f.buf = f.buf[:0]
	out, err := f.ex.Explain(ctx, recs)
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	for _, row := range out.Rows {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitRow(row.ExampleID, b)
	}
	for _, row := range out.Errors {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitErr(b)
	}
	for k, acc := range out.Importance {
		key := k.String()
		f.imp[key] = f.imp[key].Merge(acc)
	}
	if len(f.imp) > maxBundleKeys {
		f.emitImportance(emitImp)
	}
	for _, row := range out.Attention {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitAttn(row.ExampleID, b)
	}
	for _, row := range out.AttentionStats {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitStats(row.ExampleID, b)
	}
	for _, row := range out.Agreement {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitAgree(row.ExampleID, b)
	}
	for _, row := range out.Counterfactuals {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitCF(row.ExampleID, b)
	}
	for _, row := range out.Generations {
		b, err := encodeRow(row)
		if err != nil {
			return err
		}
		emitGen(row.ExampleID, b)
	}
	f.sums.add(out.Faithfulness, out.AgreementAcc)
	for _, ex := range out.Surrogate {
		b, err := surrogate.EncodeJSON(ex)
		if err != nil {
			return err
		}
		emitSur(ex.ID, b)
	}
	for _, ex := range out.Representations {
		b, err := encodeRow(ex)
		if err != nil {
			return err
		}
		emitRep(ex.ID, b)
	}
	rowsExplained.Inc(ctx, int64(out.Explained))
	rowsFailed.Inc(ctx, int64(len(out.Errors)))
	LocalProgress.Explained.Add(int64(out.Explained))
	LocalProgress.Failed.Add(int64(len(out.Errors)))
	return nil
}

// The registry shares one explainer (and so one ONNX Runtime session) among
// all DoFn instances of a worker process.
var registry = struct {
	sync.Mutex
	m map[string]*sharedExplainer
}{m: map[string]*sharedExplainer{}}

type sharedExplainer struct {
	refs  int
	ex    *explainer.Explainer
	close func() error
}

// Preload opens the explainer of spec in this process's registry and keeps it
// until release is called: the driver checks the model opens before a run,
// and in-process workers (Prism) then reuse that session instead of loading
// the model a second time.
func Preload(spec []byte) (ex *explainer.Explainer, release func(), err error) {
	return acquireExplainer(spec)
}

func acquireExplainer(spec []byte) (*explainer.Explainer, func(), error) {
	key := string(spec)
	registry.Lock()
	defer registry.Unlock()
	sh, ok := registry.m[key]
	if !ok {
		s, err := explainer.ParseSpec(spec)
		if err != nil {
			return nil, nil, err
		}
		if s, err = localize(context.Background(), s); err != nil {
			return nil, nil, err
		}
		ex, closeFn, err := explainer.Open(s)
		if err != nil {
			return nil, nil, err
		}
		sh = &sharedExplainer{ex: ex, close: closeFn}
		registry.m[key] = sh
	}
	sh.refs++
	var once sync.Once
	return sh.ex, func() {
		once.Do(func() {
			registry.Lock()
			defer registry.Unlock()
			sh.refs--
			if sh.refs == 0 {
				delete(registry.m, key)
				_ = sh.close()
			}
		})
	}, nil
}

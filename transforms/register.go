package transforms

import (
	"context"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/glassbox-ai/glassbox/importance"
	"github.com/glassbox-ai/glassbox/prototypes"
)

// Registration makes the DoFns known to remote workers and lets Beam call them without reflection.
func init() {
	register.DoFn4x1[context.Context, string, func(Record), func([]byte), error](&ReadFileFn{})
	// ExplainFn's bundle methods take more emitters than register's wrappers
	// cover (seven parameters); it is called by reflection, a cost that is
	// nothing beside explaining a batch.
	beam.RegisterType(reflect.TypeOf((*ExplainFn)(nil)).Elem())
	register.DoFn3x1[context.Context, []byte, func(*[]byte) bool, error](&WriteSummariesFn{})
	register.Function2x2(MergeSummaries)
	register.DoFn2x2[string, []byte, int, []byte](&AssignShardFn{})
	register.DoFn4x1[context.Context, string, []byte, func(int, string), error](&SpillFn{})
	register.DoFn3x1[context.Context, int, func(*string) bool, error](&MergeRunsFn{})
	register.DoFn3x1[context.Context, []byte, func(*int, *string) bool, error](&MergeRunsToFileFn{})
	register.Function1x2(KeyErrorFn)
	register.DoFn3x1[context.Context, []byte, func(*[]byte) bool, error](&WriteGlobalImportanceFn{})
	register.DoFn3x1[string, []byte, func(string, []byte), error](&SurrogateDocFreqFn{})
	register.Combiner1[[]byte](&MergeDocFreqFn{})
	register.DoFn3x1[string, []byte, func([]byte), error](&SurrogateVocabFn{})
	register.DoFn4x1[string, []byte, func(*[]byte) bool, func(string, []byte), error](&SurrogateDesignFn{})
	register.DoFn3x1[[]byte, func(*[]byte) bool, func([]byte), error](&SurrogateInitFn{})
	register.DoFn4x1[string, []byte, func(*[]byte) bool, func(string, []byte), error](&SurrogatePassFn{})
	register.Combiner1[[]byte](&MergeSurrogateAccFn{})
	register.DoFn4x1[[]byte, func(*[]byte) bool, func(*string, *[]byte) bool, func([]byte), error](&SurrogateUpdateFn{})
	register.DoFn4x1[string, []byte, func(*[]byte) bool, func(string, []byte), error](&SurrogateFidelityFn{})
	register.Combiner1[[]byte](&MergeFidelityFn{})
	register.DoFn5x1[context.Context, []byte, func(*[]byte) bool, func(*string, *[]byte) bool, func(*[]byte) bool, error](&WriteSurrogatesFn{})
	register.DoFn3x1[context.Context, int, func(*[]byte) bool, error](&WriteSurrogateExamplesFn{})
	register.DoFn3x1[string, []byte, func(string, []byte), error](&ReservoirFn{})
	register.Combiner3[*prototypes.Reservoir, []byte, []byte](&MergeReservoirFn{})
	register.DoFn4x1[context.Context, string, []byte, func([]byte), error](&SelectPrototypesFn{})
	register.DoFn3x1[context.Context, []byte, func(*[]byte) bool, error](&WritePrototypesFn{})
	register.Function3x0(ReferenceSetFn)
	register.DoFn5x1[context.Context, string, []byte, func(*[]byte) bool, func(string, []byte), error](&NeighboursFn{})
	register.DoFn3x1[string, []byte, func(string, []byte), error](&EmbeddingRowFn{})
	register.Iter2[string, []byte]()
	register.Function2x1(MergeImportance)
	register.Function3x1(FinalizeImportance)
	register.Emitter1[Record]()
	register.Emitter1[[]byte]()
	register.Emitter2[string, []byte]()
	register.Emitter2[string, importance.Acc]()
	register.Iter1[[]byte]()
	register.Iter1[string]()
	register.Iter2[int, string]()
	register.Emitter2[int, string]()
}

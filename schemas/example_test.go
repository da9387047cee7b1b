package schemas_test

import (
	"fmt"
	"log"
	"path/filepath"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// Read a run's explanations back from its Parquet shards, as a Go program
// would (warehouses read the same files with SQL, see README.md). The run in
// testdata/run is made by scripts/make-schema-sample.sh.
func Example_readRun() {
	shards, err := filepath.Glob("testdata/run/" + schemas.ExplanationsPrefix + "-*-of-*.parquet")
	if err != nil {
		log.Fatal(err)
	}
	for _, path := range shards {
		rows, err := parquet.ReadFile[schemas.ExplanationRow](path)
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range rows {
			top := r.Words[0]
			for _, w := range r.Words {
				if w.Attribution > top.Attribution {
					top = w
				}
			}
			fmt.Printf("%s %s %s: %q %+.3f\n", r.ExampleID, r.Method, r.Target, top.Text, top.Attribution)
		}
	}
	// Output:
	// a attention POSITIVE: "delightful" +0.326
	// a kernelshap POSITIVE: "wonderful" +0.305
	// a occlusion POSITIVE: "wonderful" +0.000
	// b attention NEGATIVE: "dreadful" +0.190
	// b kernelshap NEGATIVE: "dreadful" +0.614
	// b occlusion NEGATIVE: "dreadful" +0.995
}

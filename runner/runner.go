package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	// File systems the pipeline reads from and writes to.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
)

// Default is the runner used when --runner is not given: Prism, in-process.
const Default = "prism"

// Name returns the runner selected by --runner, or Default.
func Name() string {
	if r := strings.TrimSpace(*runners.Runner); r != "" {
		return r
	}
	return Default
}

// Check validates the runner options before the pipeline is built: remote
// runners cross-compile the worker without cgo, which cannot include ONNX
// Runtime, so they need a worker binary built with cgo (`make worker`).
func Check() error {
	switch Name() {
	case "prism", "direct", "dot":
		if Name() == "prism" && *jobopts.Endpoint != "" && *jobopts.WorkerBinary == "" && *jobopts.EnvironmentType != "loopback" && *jobopts.EnvironmentType != "LOOPBACK" {
			return fmt.Errorf("runner prism at --endpoint %s: pass --environment_type=LOOPBACK or a cgo-enabled --worker_binary (build it with `make worker`)", *jobopts.Endpoint)
		}
		return nil
	case "dataflow", "flink", "spark", "universal", "portable":
		if *jobopts.WorkerBinary == "" && *jobopts.EnvironmentType != "loopback" && *jobopts.EnvironmentType != "LOOPBACK" {
			return fmt.Errorf("runner %s: pass --worker_binary=bin/glassbox-worker (build it with `make worker`): Beam cross-compiles workers with CGO_ENABLED=0, which cannot include ONNX Runtime", Name())
		}
		return nil
	default:
		return nil
	}
}

// Run runs p on the selected runner and returns its result (with metrics where the runner reports them).
func Run(ctx context.Context, p *beam.Pipeline) (beam.PipelineResult, error) {
	if err := Check(); err != nil {
		return nil, err
	}
	res, err := beamx.RunWithMetrics(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("run pipeline on %s: %w", Name(), err)
	}
	return res, nil
}

package runner

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

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

// WorkerImageDoc names the worker image's build file, which error messages point to.
const WorkerImageDoc = "deploy/worker.Dockerfile"

// Name returns the runner selected by --runner, or Default.
func Name() string {
	if r := strings.TrimSpace(*runners.Runner); r != "" {
		return strings.ToLower(r)
	}
	return Default
}

// environment returns --environment_type, lower-cased.
func environment() string { return strings.ToLower(strings.TrimSpace(*jobopts.EnvironmentType)) }

// InProcess reports whether the run's workers execute inside this process,
// where every local path (relative ones included) means what it means here:
// Prism or the direct runner started in-process, or any job server with
// LOOPBACK workers (Beam then serves the workers from this process).
func InProcess() bool {
	switch Name() {
	case "prism":
		return *jobopts.Endpoint == "" || environment() == "loopback"
	case "direct", "dot":
		return true
	default:
		return environment() == "loopback"
	}
}

// portable reports whether the runner submits the job to a job service over
// Beam's portable protocol (Prism's standalone job server, Flink, Spark, any
// universal endpoint), whose workers run in an environment the user chooses.
func portable() bool {
	switch Name() {
	case "prism":
		return *jobopts.Endpoint != ""
	case "flink", "spark", "universal", "portable", "samza":
		return true
	}
	return false
}

// Prepare checks the runner options before anything runs and fills the
// defaults it can, writing a line to notes for each (nil discards them):
//   - portable runners need --environment_type: without it Beam silently picks
//     Docker with its stock Go image, which has no ONNX Runtime, and the job
//     fails in a worker far from the cause;
//   - out-of-process workers need a worker binary built with cgo (Beam's own
//     cross-compile sets CGO_ENABLED=0, which cannot include ONNX Runtime):
//     this binary when it is one (linux/amd64), else --worker_binary;
//   - Dataflow needs a worker image carrying ONNX Runtime (--sdk_container_image).
func Prepare(notes io.Writer) error {
	if notes == nil {
		notes = io.Discard
	}
	switch Name() {
	case "prism", "direct", "dot", "dataflow", "flink", "spark", "universal", "portable", "samza":
	default:
		return fmt.Errorf("unknown runner %q: use prism (the default, in-process), dataflow, flink, spark or universal (any portable job service at --endpoint)", *runners.Runner)
	}
	if portable() {
		if *jobopts.Endpoint == "" {
			return fmt.Errorf("runner %s: pass --endpoint=HOST:PORT, the address of its job service", Name())
		}
		if err := checkEnvironment(); err != nil {
			return err
		}
	}
	if Name() == "dataflow" {
		if flagValue("sdk_container_image") == "" && flagValue("worker_harness_container_image") == "" {
			return fmt.Errorf("runner dataflow: pass --sdk_container_image=IMAGE, a Beam Go worker image carrying ONNX Runtime and Glassbox's worker binary (build it from %s): Beam's stock Go image has no ONNX Runtime", WorkerImageDoc)
		}
	}
	if InProcess() || *jobopts.WorkerBinary != "" {
		return nil
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("runner %s: pass --worker_binary, a linux/amd64 Glassbox built with cgo (`make worker`): this %s/%s binary cannot run on the workers, and Beam's own cross-compile sets CGO_ENABLED=0, which cannot include ONNX Runtime", Name(), runtime.GOOS, runtime.GOARCH)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("runner %s: pass --worker_binary (a Glassbox built with cgo, `make worker`): cannot find this binary: %w", Name(), err)
	}
	*jobopts.WorkerBinary = exe
	fmt.Fprintf(notes, "runner %s: workers run this binary (%s); pass --worker_binary to choose another\n", Name(), exe)
	return nil
}

// checkEnvironment validates --environment_type and --environment_config for a portable runner.
func checkEnvironment() error {
	const choices = "EXTERNAL with --environment_config=HOST:PORT of a worker pool (`glassbox worker-pool --port PORT`, or Beam's `boot --worker_pool`), " +
		"DOCKER with --environment_config=IMAGE (a worker image carrying ONNX Runtime: " + WorkerImageDoc + "), " +
		"PROCESS with --environment_config='{\"command\":\"/path/to/boot\"}', " +
		"or LOOPBACK (workers inside this process; the job server must run on this machine)"
	cfg := strings.TrimSpace(*jobopts.EnvironmentConfig)
	switch environment() {
	case "":
		return fmt.Errorf("runner %s: --environment_type is required (without it Beam starts its stock Go Docker image, which has no ONNX Runtime): %s", Name(), choices)
	case "loopback":
		return nil
	case "external", "docker", "process":
		if cfg == "" {
			return fmt.Errorf("runner %s: --environment_type=%s needs --environment_config: %s", Name(), strings.ToUpper(environment()), choices)
		}
		return nil
	default:
		return fmt.Errorf("runner %s: unknown --environment_type %q: %s", Name(), *jobopts.EnvironmentType, choices)
	}
}

// flagValue returns the value of a flag registered by one of Beam's runner packages, "" when absent.
func flagValue(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// Run runs p on the selected runner and returns its result (with metrics
// where the runner reports them). While it runs, watch (if not nil) is called
// every interval with the job's glassbox counters when the runner serves them
// from a job service (out-of-process workers); see Watch.
func Run(ctx context.Context, p *beam.Pipeline, watch func(Counters), interval time.Duration) (beam.PipelineResult, error) {
	if err := Prepare(nil); err != nil {
		return nil, err
	}
	remote := portable() && !InProcess()
	if remote {
		if *jobopts.JobName == "" {
			// The job service lists jobs by name: a unique one finds this job
			// (for its metrics, and to cancel it when the run is interrupted).
			*jobopts.JobName = fmt.Sprintf("glassbox-%d-%d", os.Getpid(), time.Now().UnixNano())
		}
		if watch != nil {
			stop := pollJob(ctx, *jobopts.Endpoint, *jobopts.JobName, interval, watch)
			defer stop()
		}
	}
	started := time.Now()
	res, err := beamx.RunWithMetrics(ctx, p)
	removeLoopbackPlaceholders(started)
	if remote && ctx.Err() != nil {
		// Beam only stops waiting: the job would keep the cluster busy.
		cancelJob(*jobopts.Endpoint, *jobopts.JobName)
	}
	if err != nil {
		if portable() && !InProcess() {
			return nil, fmt.Errorf("run pipeline on %s (job service %s, workers %s %s; the job service's and workers' logs say more): %w", Name(), *jobopts.Endpoint, strings.ToUpper(environment()), *jobopts.EnvironmentConfig, err)
		}
		return nil, fmt.Errorf("run pipeline on %s: %w", Name(), err)
	}
	return res, nil
}

// removeLoopbackPlaceholders removes the empty files Beam's universal runner
// creates in the temporary folder for LOOPBACK jobs ("beamloopbackworker-*",
// a worker binary it never uses) and leaves behind: one per run would pile up
// over nightly runs. Only empty ones made since started are taken.
func removeLoopbackPlaceholders(started time.Time) {
	if !jobopts.IsLoopback() {
		return
	}
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), "beamloopbackworker-*"))
	for _, m := range matches {
		if st, err := os.Lstat(m); err == nil && st.Mode().IsRegular() && st.Size() == 0 && !st.ModTime().Before(started.Add(-time.Second)) {
			os.Remove(m)
		}
	}
}

// Watch describes where progress comes from on the selected runner: this
// process's own counters (in-process workers), the job service's metrics
// (portable runners), or nothing until the job ends (Dataflow, whose
// metrics Beam's Go SDK reads only at the end).
func Watch() string {
	switch {
	case InProcess():
		return "local"
	case portable():
		return "job service"
	default:
		return ""
	}
}

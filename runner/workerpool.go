package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/container/tools"
	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/util/grpcx"
	"google.golang.org/grpc"
)

// WorkerPool serves Beam's external worker pool API (the EXTERNAL environment:
// --environment_type=EXTERNAL --environment_config=HOST:PORT): each
// StartWorker starts one worker process running Exe as a Beam worker, in a
// process group of its own, and StopWorker or the pool's end stops that group.
// Unlike Beam's `boot --worker_pool`, the workers run the pool's own binary
// (built with cgo, so with ONNX Runtime) rather than the staged artifact, the
// port is the caller's choice, and no worker outlives the pool: Beam's Go
// workers keep sleeping after "Worker exited successfully" until killed.
type WorkerPool struct {
	fnpb.UnimplementedBeamFnExternalWorkerPoolServer

	// Exe is the worker binary: a Glassbox built with cgo.
	Exe string
	// Log receives one line per worker started, stopped or exited, and the workers' own output; nil discards it.
	Log io.Writer
	// TempDir holds the workers' pipeline options files (default os.TempDir()).
	TempDir string

	mu      sync.Mutex
	workers map[string]*poolWorker
	closed  bool
}

// poolWorker is one running worker process.
type poolWorker struct {
	cmd     *exec.Cmd
	options string // its pipeline options file
	done    chan struct{}
}

// Serve answers the pool API on lis until ctx ends, then stops every worker it started.
func (p *WorkerPool) Serve(ctx context.Context, lis net.Listener) error {
	if p.Log == nil {
		p.Log = io.Discard
	}
	p.mu.Lock()
	p.workers = map[string]*poolWorker{}
	p.mu.Unlock()
	srv := grpc.NewServer()
	fnpb.RegisterBeamFnExternalWorkerPoolServer(srv, p)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	var err error
	select {
	case <-ctx.Done():
		srv.Stop()
	case err = <-errc:
	}
	p.stopAll()
	if err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("worker pool on %s: %w", lis.Addr(), err)
	}
	return nil
}

// StartWorker starts a worker process for the request's worker id.
func (p *WorkerPool) StartWorker(ctx context.Context, req *fnpb.StartWorkerRequest) (*fnpb.StartWorkerResponse, error) {
	id := req.GetWorkerId()
	fail := func(format string, a ...any) (*fnpb.StartWorkerResponse, error) {
		msg := fmt.Sprintf(format, a...)
		fmt.Fprintf(p.Log, "worker pool: cannot start worker %s: %s\n", id, msg)
		return &fnpb.StartWorkerResponse{Error: msg}, nil
	}
	if req.GetControlEndpoint().GetUrl() == "" || req.GetLoggingEndpoint().GetUrl() == "" {
		return fail("missing control or logging endpoint")
	}
	p.mu.Lock()
	_, exists := p.workers[id]
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return fail("worker pool shutting down")
	}
	if exists {
		return fail("worker %q already exists", id)
	}
	// The worker reads the job's pipeline options from a file, as Beam's boot
	// gives them, so flags registered by the job's packages get their values.
	env := os.Environ()
	options := ""
	if ep := req.GetProvisionEndpoint().GetUrl(); ep != "" {
		// The runner tells workers apart by the id in each call's metadata.
		pctx, cancel := context.WithTimeout(grpcx.WriteWorkerID(ctx, id), time.Minute)
		info, err := tools.ProvisionInfo(pctx, ep)
		cancel()
		if err != nil {
			return fail("provision info from %s: %v", ep, err)
		}
		js, err := tools.ProtoToJSON(info.GetPipelineOptions())
		if err != nil {
			return fail("pipeline options: %v", err)
		}
		f, err := os.CreateTemp(p.TempDir, "glassbox-worker-options-*.json")
		if err != nil {
			return fail("pipeline options file: %v", err)
		}
		options = f.Name()
		_, werr := f.WriteString(js)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(options)
			return fail("pipeline options file: %v", werr)
		}
		env = append(env, "PIPELINE_OPTIONS_FILE="+options)
		if s := info.GetStatusEndpoint().GetUrl(); s != "" {
			env = append(env, "STATUS_ENDPOINT="+s)
		}
		if caps := info.GetRunnerCapabilities(); len(caps) > 0 {
			env = append(env, "RUNNER_CAPABILITIES="+strings.Join(caps, " "))
		}
	}
	cmd := exec.Command(p.Exe, "--worker=true", "--id="+id,
		"--control_endpoint="+req.GetControlEndpoint().GetUrl(), "--logging_endpoint="+req.GetLoggingEndpoint().GetUrl())
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = p.Log, p.Log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		if options != "" {
			os.Remove(options)
		}
		return fail("start %s: %v", p.Exe, err)
	}
	w := &poolWorker{cmd: cmd, options: options, done: make(chan struct{})}
	p.mu.Lock()
	p.workers[id] = w
	p.mu.Unlock()
	fmt.Fprintf(p.Log, "worker pool: started worker %s (pid %d)\n", id, cmd.Process.Pid)
	go func() {
		err := cmd.Wait()
		close(w.done)
		if options != "" {
			os.Remove(options)
		}
		p.mu.Lock()
		if p.workers[id] == w {
			delete(p.workers, id)
		}
		p.mu.Unlock()
		peak := ""
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = fmt.Sprintf(", peak RSS %d MiB", ru.Maxrss/1024) // Linux reports KiB
		}
		fmt.Fprintf(p.Log, "worker pool: worker %s (pid %d) exited: %v%s\n", id, cmd.Process.Pid, exitText(err), peak)
	}()
	return &fnpb.StartWorkerResponse{}, nil
}

// StopWorker stops the worker process of the request's worker id.
func (p *WorkerPool) StopWorker(_ context.Context, req *fnpb.StopWorkerRequest) (*fnpb.StopWorkerResponse, error) {
	p.mu.Lock()
	w, ok := p.workers[req.GetWorkerId()]
	delete(p.workers, req.GetWorkerId())
	p.mu.Unlock()
	if ok {
		w.stop()
	}
	return &fnpb.StopWorkerResponse{}, nil
}

// stopAll stops every worker and refuses new ones.
func (p *WorkerPool) stopAll() {
	p.mu.Lock()
	p.closed = true
	ws := p.workers
	p.workers = map[string]*poolWorker{}
	p.mu.Unlock()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() { defer wg.Done(); w.stop() }()
	}
	wg.Wait()
}

// stop ends the worker's process group: SIGTERM, then SIGKILL after a grace period.
func (w *poolWorker) stop() {
	pgid := w.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-w.done
	}
}

// exitText describes a worker's exit.
func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

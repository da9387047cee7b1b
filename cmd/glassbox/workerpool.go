package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/glassbox-ai/glassbox/runner"
)

// runWorkerPool serves Beam's external worker pool API, starting one Glassbox
// worker process per worker a job service asks for, until interrupted.
func runWorkerPool(ctx context.Context, args []string, stderr io.Writer) error {
	fs := newFlagSet("worker-pool", "worker-pool [--host HOST] [--port PORT]", stderr)
	host := fs.String("host", "", "interface to listen on (default: all)")
	port := fs.Int("port", 50000, "port to listen on (Beam's boot --worker_pool uses 50000); 0 picks a free one")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find this binary: %w", err)
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(stderr, "glassbox worker-pool: serving on %s; pass --environment_type=EXTERNAL --environment_config=HOST:%d to explain; workers run %s\n",
		lis.Addr(), lis.Addr().(*net.TCPAddr).Port, exe)
	pool := &runner.WorkerPool{Exe: exe, Log: stderr}
	return pool.Serve(ctx, lis)
}

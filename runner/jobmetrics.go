package runner

import (
	"context"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/metricsx"
	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Namespace is the metrics namespace of Glassbox's counters.
const Namespace = "glassbox"

// Counters are a job's glassbox counters by name (rows_read, rows_explained, ...).
type Counters map[string]int64

// pollJob calls watch every interval with the attempted glassbox counters of
// the job named name at the job service endpoint, until the returned stop is
// called. Workers out of this process count in their own memory, so the
// job service, which gathers their bundle metrics, is the only live source.
// Failures to reach the service are left to the run itself to report: the
// progress line then just does not move.
func pollJob(ctx context.Context, endpoint, name string, interval time.Duration, watch func(Counters)) (stop func()) {
	if interval <= 0 {
		interval = 2 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		client, closeConn, err := jobService(endpoint)
		if err != nil {
			return
		}
		defer closeConn()
		t := time.NewTicker(interval)
		defer t.Stop()
		id := ""
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if id == "" {
				id = findJob(ctx, client, name)
				if id == "" {
					continue
				}
			}
			if c, ok := jobCounters(ctx, client, id); ok {
				watch(c)
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// findJob returns the id of the job named name, "" until the service lists it.
func findJob(ctx context.Context, client jobpb.JobServiceClient, name string) string {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := client.GetJobs(rctx, &jobpb.GetJobsRequest{})
	if err != nil {
		return ""
	}
	for _, j := range resp.GetJobInfo() {
		if j.GetJobName() == name {
			return j.GetJobId()
		}
	}
	return ""
}

// jobCounters reads the job's glassbox counters. Committed values cover the
// bundles that finished; attempted ones, the runner's tentative view, can
// include bundles in flight or lag behind: the larger of the two is the best
// live figure (the final counts come from the job's result).
func jobCounters(ctx context.Context, client jobpb.JobServiceClient, id string) (Counters, bool) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := client.GetJobMetrics(rctx, &jobpb.GetJobMetricsRequest{JobId: id})
	if err != nil {
		return nil, false
	}
	m := resp.GetMetrics()
	res := metricsx.FromMonitoringInfos(nil, m.GetAttempted(), m.GetCommitted())
	c := Counters{}
	for _, r := range res.AllMetrics().Counters() {
		if r.Namespace() == Namespace {
			c[r.Name()] += max(r.Committed, r.Attempted)
		}
	}
	return c, true
}

// cancelJob asks the job service to cancel the job named name, best effort:
// the launcher is stopping, and a job left running would hold the workers.
func cancelJob(endpoint, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, closeConn, err := jobService(endpoint)
	if err != nil {
		return
	}
	defer closeConn()
	if id := findJob(ctx, client, name); id != "" {
		_, _ = client.Cancel(ctx, &jobpb.CancelJobRequest{JobId: id})
	}
}

// jobService returns a client of the job service at endpoint and a function closing it.
func jobService(endpoint string) (jobpb.JobServiceClient, func(), error) {
	conn, err := grpc.NewClient(endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return jobpb.NewJobServiceClient(conn), func() { conn.Close() }, nil
}

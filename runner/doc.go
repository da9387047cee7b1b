// Package runner chooses the Beam runner and checks its options: the embedded
// Prism runner by default, and Dataflow, Flink, Spark or any portable runner
// through Beam's own flags (--runner, --endpoint, --worker_binary, ...).
package runner

package transforms

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/ortlib"
)

// localize makes a spec written by the launcher openable in this process,
// which may run on another host: it offers the launcher's ONNX Runtime
// library (used when this host has it), fetches a remote model into the local
// cache (verified against the launcher's digests), and rebuilds the edited
// graph (attention or hidden state exposed) when the launcher's copy is not
// on this host. The launcher's own process finds everything in place.
func localize(ctx context.Context, s explainer.Spec) (explainer.Spec, error) {
	ortlib.Offer(s.ORTLibrary, s.ORTLibrarySHA256)
	if IsRemote(s.Model) {
		local, err := MaterializeModel(ctx, s.Model, s.ModelFiles)
		if err != nil {
			return s, err
		}
		s.Model = local
	}
	if !usableDir(s.GraphCache) {
		s.GraphCache = filepath.Join(os.TempDir(), "glassbox-cache")
	}
	if s.GraphPath == "" {
		return s, nil
	}
	if _, err := os.Stat(s.GraphPath); err == nil {
		return s, nil
	}
	files, err := inference.Locate(s.Model)
	if err != nil {
		return s, err
	}
	path, attention, hidden, err := onnxgraph.ExposeFile(files.ONNX, s.GraphCache, onnxgraph.Expose{Attention: len(s.AttentionOutputs) > 0, Hidden: s.HiddenOutput != ""})
	if err != nil {
		return s, fmt.Errorf("rebuild the edited graph of %s on this worker: %w", files.ONNX, err)
	}
	if !slices.Equal(attention, s.AttentionOutputs) || hidden != s.HiddenOutput {
		return s, fmt.Errorf("rebuild the edited graph of %s on this worker: outputs %v %q differ from the launcher's %v %q", files.ONNX, attention, hidden, s.AttentionOutputs, s.HiddenOutput)
	}
	s.GraphPath = path
	return s, nil
}

// usableDir reports whether dir exists or can be made: the launcher's cache
// folder, beside its output or in its user cache, may not exist on a worker's host.
func usableDir(dir string) bool {
	return dir != "" && os.MkdirAll(dir, 0o755) == nil
}

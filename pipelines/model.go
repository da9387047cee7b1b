package pipelines

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glassbox-ai/glassbox/explainer"
	"github.com/glassbox-ai/glassbox/explanation"
	"github.com/glassbox-ai/glassbox/inference"
	"github.com/glassbox-ai/glassbox/jobconfig"
	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/ortlib"
	"github.com/glassbox-ai/glassbox/surrogate"
	"github.com/glassbox-ai/glassbox/transforms"
)

// modelFiles is the manifest's description of the model, filled as the run
// learns it, with where the launcher reads it: a remote model (gs://) is
// fetched once into the local model cache, and its files' digests go to the
// workers, which fetch and verify the same bytes.
type modelFiles struct {
	jobconfig.ModelInfo
	// local is the local path standing for ModelInfo.Path (itself when local).
	local string
	// stored lists a remote model's files and digests; nil for a local model.
	stored []inference.StoredFile
}

// describeModel locates the model's ONNX file (fetching a remote model first)
// and digests it and its external data files.
func describeModel(ctx context.Context, path string) (modelFiles, error) {
	m := modelFiles{ModelInfo: jobconfig.ModelInfo{Path: path}, local: path}
	if transforms.IsRemote(path) {
		var err error
		if m.local, m.stored, err = transforms.FetchModel(ctx, path); err != nil {
			return modelFiles{}, fmt.Errorf("model: %w", err)
		}
	}
	files, err := inference.Locate(m.local)
	if err != nil {
		return modelFiles{}, err
	}
	m.ONNX = files.ONNX
	if m.SHA256, err = jobconfig.SHA256File(files.ONNX); err != nil {
		return modelFiles{}, fmt.Errorf("model: %w", err)
	}
	proto, err := onnxgraph.Load(files.ONNX)
	if err != nil {
		return modelFiles{}, fmt.Errorf("model: %w", err)
	}
	data, err := onnxgraph.ExternalFiles(proto)
	if err != nil {
		return modelFiles{}, fmt.Errorf("model %s: %w", files.ONNX, err)
	}
	for _, loc := range data {
		p := filepath.Join(filepath.Dir(files.ONNX), filepath.FromSlash(loc))
		sum, err := jobconfig.SHA256File(p)
		if err != nil {
			return modelFiles{}, fmt.Errorf("model: external data: %w", err)
		}
		m.ExternalData = append(m.ExternalData, jobconfig.FileDigest{Path: p, SHA256: sum})
	}
	return m, nil
}

// manifest returns the model's description for the manifest: a remote
// model's files are named by their URLs, not by the launcher's cached copies
// (which mirror the remote layout under the folder standing for Path, or
// beside the .onnx file when Path names one).
func (m modelFiles) manifest() jobconfig.ModelInfo {
	info := m.ModelInfo
	if m.stored == nil {
		return info
	}
	localRoot, remoteRoot := m.local, m.Path
	if st, err := os.Stat(m.local); err == nil && !st.IsDir() {
		localRoot, remoteRoot = filepath.Dir(m.local), transforms.ParentURL(m.Path)
	}
	remote := func(p string) string {
		rel, err := filepath.Rel(localRoot, p)
		if err != nil {
			return p
		}
		return transforms.JoinPath(remoteRoot, filepath.ToSlash(rel))
	}
	info.ONNX = remote(info.ONNX)
	info.ExternalData = nil
	for _, d := range m.ExternalData {
		info.ExternalData = append(info.ExternalData, jobconfig.FileDigest{Path: remote(d.Path), SHA256: d.SHA256})
	}
	return info
}

// surrogatePlan lists the surrogates the job fits on the model's classes.
// The probe's dimension is found by predicting one text.
func surrogatePlan(cfg *jobconfig.Config, ex *explainer.Explainer) ([]byte, error) {
	m := ex.Model()
	if m.Kind != inference.SequenceClassification {
		return nil, fmt.Errorf("surrogates: need a sequence classifier, %s is not one", m.Files.ONNX)
	}
	plan, err := surrogate.NewPlan(cfg.Surrogates, m.Labels)
	if err != nil {
		return nil, err
	}
	if plan.ProbeDim, err = ex.ProbeDim(context.Background()); err != nil {
		return nil, err
	}
	return plan.Encode()
}

// identity is what the run id hashes for the model: the graph's sha256, and
// its weights' when they live in other files, so new weights make a new run id.
func (m modelFiles) identity() string {
	if len(m.ExternalData) == 0 {
		return m.SHA256
	}
	h := sha256.New()
	h.Write([]byte(m.SHA256))
	for _, d := range m.ExternalData {
		h.Write([]byte(d.SHA256))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// prepared is the model made ready for the run: the workers' encoded spec,
// the model's description completed from the opened model, the run's
// warnings, and release, which lets go of the driver's preloaded session.
type prepared struct {
	spec       []byte
	surrogates []byte // encoded surrogate.Plan, nil when none is fitted
	model      modelFiles
	warnings   []string
	release    func()
}

// prepareModel builds the workers' spec, exposes the attention probabilities
// when a method or attention_matrices needs them (attention surgery, cached),
// quantises the graph the workers load when the job sets int8 (cached too),
// and opens the model once here, so a broken model fails the run with its own
// error rather than in every worker; in-process workers reuse this session.
func prepareModel(cfg *jobconfig.Config, in inputs) (prepared, error) {
	spec, err := specFromConfig(cfg, in.runID)
	if err != nil {
		return prepared{}, err
	}
	model := in.model
	spec.GraphCache, spec.ModelIdentity = modelCacheDir(cfg.Output), model.identity()
	spec.ModelFiles = model.stored
	if spec.ORTLibrary, spec.ORTLibrarySHA256, err = ortLibrary(); err != nil {
		return prepared{}, err
	}
	switch users, pool := hiddenUsers(cfg); {
	case users != "":
		spec.ProbePool = pool
		if spec.GraphPath, spec.AttentionOutputs, spec.HiddenOutput, err = exposeHidden(model.ONNX, cfg.Output, model.identity(), spec.AttentionUsers(), users); err != nil {
			return prepared{}, err
		}
	case spec.NeedsAttention():
		if spec.GraphPath, spec.AttentionOutputs, err = exposeAttention(model.ONNX, cfg.Output, model.identity(), spec.AttentionUsers()); err != nil {
			return prepared{}, err
		}
	}
	if cfg.Int8 {
		graph := spec.GraphPath
		if graph == "" {
			graph = model.ONNX
		}
		// Gradient methods keep differentiating the float model (spec.GradientGraph
		// stays empty): the int8 operators have no backward rule.
		if spec.GraphPath, err = onnxgraph.QuantizeFile(graph, filepath.Dir(model.ONNX), modelCacheDir(cfg.Output)); err != nil {
			return prepared{}, fmt.Errorf("int8: %w", err)
		}
	}
	specJSON, err := spec.Encode()
	if err != nil {
		return prepared{}, err
	}
	ex, release, err := transforms.Preload(specJSON)
	if err != nil {
		return prepared{}, err
	}
	model.MaxLength, model.MaxLengthRule = ex.Model().MaxLength, ex.Model().MaxLengthRule
	model.AttentionMask = ex.MaskCheck()
	var warnings []string
	if ex.MaskingFallback() {
		warnings = append(warnings, fmt.Sprintf("masking: %s does not honour holes in the attention mask, so perturbation methods asked for masking %q use replace masking (token id %d) instead: %s",
			model.ONNX, explanation.MaskingAuto, ex.Model().MaskID, model.AttentionMask.Evidence))
	}
	if cfg.Examples.Enabled && ex.Model().Kind != inference.SequenceClassification {
		release()
		return prepared{}, fmt.Errorf("examples: prototypes and neighbours are grouped by predicted class and need a sequence classifier, %s is not one", model.ONNX)
	}
	var plan []byte
	if cfg.Surrogates.Enabled() {
		if plan, err = surrogatePlan(cfg, ex); err != nil {
			release()
			return prepared{}, err
		}
	}
	return prepared{spec: specJSON, surrogates: plan, model: model, warnings: warnings, release: release}, nil
}

// hiddenUsers names what reads the pooled last hidden state (the probe
// surrogate, the examples section; "" when nothing does) and the pooling in
// force, which the config's validation keeps the same for both.
func hiddenUsers(cfg *jobconfig.Config) (users, pool string) {
	if cfg.Surrogates.Has(surrogate.KindProbe) {
		users, pool = "the probe surrogate", cfg.Surrogates.Probe.Pool
	}
	if cfg.Examples.Enabled {
		if users != "" {
			users += " and "
		}
		users, pool = users+"the examples section", cfg.Examples.Pool
	}
	return users, pool
}

// ortLibrary loads ONNX Runtime here and returns the library's path and
// sha256, which the spec carries to workers on hosts sharing this filesystem.
func ortLibrary() (path, sum string, err error) {
	if err := ortlib.Init(); err != nil {
		return "", "", err
	}
	if path, err = ortlib.Loaded(); err != nil {
		return "", "", err
	}
	if path, err = filepath.Abs(path); err != nil {
		return "", "", fmt.Errorf("ONNX Runtime library: %w", err)
	}
	sum, err = ortlib.SHA256(path)
	return path, sum, err
}

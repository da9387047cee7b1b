package gradient

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// cacheFormat names the layout of a cached graph; it changes whenever what
// Build emits changes in a way a binary without a VCS stamp could not tell.
const cacheFormat = "glassbox-gradient-2"

// cacheMetaKey is the metadata_props key holding a cached graph's Graph fields.
const cacheMetaKey = "glassbox.gradient"

// Cache keeps built graphs on disk so that later runs of the same model (and
// parallel workers sharing the folder) skip Build, as attention surgery's
// cache does. A graph is keyed by the model's identity (its sha256 and those
// of its external data), the target, the output, the batch and the length,
// and by the program's build stamp, so a new Glassbox never reads an old
// rule's graph. Only what Build added is written: initializers identical to
// the model's own are re-attached from the model on load, so a cached graph
// holds kilobytes of new constants, not another copy of the weights.
type Cache struct {
	// Dir is the cache folder; "" disables the cache.
	Dir string
	// Model identifies the model's bytes (e.g. the sha256 of its graph and external data).
	Model string
}

// cachedGraph is what a cached file records besides the graph.
type cachedGraph struct {
	Spec           Spec                                   `json:"spec"`
	EmbeddingTable string                                 `json:"embedding_table"`
	Hidden         int                                    `json:"hidden"`
	Classes        int                                    `json:"classes"`
	Inputs         []string                               `json:"inputs"`
	TargetPosition string                                 `json:"target_position,omitempty"`
	EmbedsType     onnxpb.TensorProto_DataType            `json:"embeds_type"`
	TargetType     onnxpb.TensorProto_DataType            `json:"target_type"`
	IntTypes       map[string]onnxpb.TensorProto_DataType `json:"int_types"`
	// Shared are the initializers re-attached from the model, in graph order.
	Shared []string `json:"shared"`
}

// buildStamp is cacheFormat with the program's VCS revision, when stamped.
var buildStamp = sync.OnceValue(func() string {
	stamp := cacheFormat
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range info.Settings {
			if kv.Key == "vcs.revision" || kv.Key == "vcs.modified" {
				stamp += "|" + kv.Value
			}
		}
	}
	return stamp
})

// Path returns the file that holds the graph of s.
func (c Cache) Path(s Spec) string {
	h := sha256.New()
	for _, part := range []string{buildStamp(), c.Model, s.Target.String(), s.Output, fmt.Sprint(s.Batch), fmt.Sprint(s.Seq)} {
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	key := hex.EncodeToString(h.Sum(nil))
	return filepath.Join(c.Dir, fmt.Sprintf("gradient-%s-b%d-s%d-%s.onnx", s.Target, s.Batch, s.Seq, key[:24]))
}

// Build returns the backward graph of base for s, from the cache when it holds
// one and otherwise built and stored. A cache that cannot be read or written
// only costs the build: its errors are returned as warn, never as err.
func (c Cache) Build(base *onnxpb.ModelProto, s Spec) (g *Graph, warn, err error) {
	if c.Dir == "" || c.Model == "" {
		g, err = Build(base, s)
		return g, nil, err
	}
	path := c.Path(s)
	if g, err := c.load(path, base, s); err == nil {
		return g, nil, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		warn = fmt.Errorf("gradient cache: %s unusable, rebuilding: %w", path, err)
	}
	if g, err = Build(base, s); err != nil {
		return nil, warn, err
	}
	if err := c.store(path, base, g); err != nil {
		warn = errors.Join(warn, fmt.Errorf("gradient cache: %w", err))
	}
	return g, warn, nil
}

// store writes g without the initializers it shares with base.
func (c Cache) store(path string, base *onnxpb.ModelProto, g *Graph) error {
	own := initializers(base)
	m := proto.Clone(g.Model).(*onnxpb.ModelProto)
	meta := cachedGraph{Spec: g.Spec, EmbeddingTable: g.EmbeddingTable, Hidden: g.Hidden, Classes: g.Classes,
		Inputs: g.Inputs, TargetPosition: g.TargetPosition, EmbedsType: g.EmbedsType, TargetType: g.targetType, IntTypes: g.intTypes}
	var kept []*onnxpb.TensorProto
	for _, t := range m.GetGraph().GetInitializer() {
		if o, ok := own[t.GetName()]; ok && proto.Equal(o, t) {
			meta.Shared = append(meta.Shared, t.GetName())
			continue
		}
		kept = append(kept, t)
	}
	m.Graph.Initializer = kept
	js, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String(cacheMetaKey), Value: proto.String(string(js))})
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", c.Dir, err)
	}
	return onnxgraph.Save(m, path)
}

// load reads a graph store wrote and re-attaches base's initializers.
func (c Cache) load(path string, base *onnxpb.ModelProto, s Spec) (*Graph, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := &onnxpb.ModelProto{}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("parsing: %w", err)
	}
	var meta cachedGraph
	found := false
	props := m.MetadataProps[:0]
	for _, p := range m.GetMetadataProps() {
		if p.GetKey() == cacheMetaKey {
			found = true
			if err := json.Unmarshal([]byte(p.GetValue()), &meta); err != nil {
				return nil, fmt.Errorf("metadata: %w", err)
			}
			continue
		}
		props = append(props, p)
	}
	m.MetadataProps = props
	if !found || meta.Spec != s {
		return nil, fmt.Errorf("metadata for %+v missing or for another shape", s)
	}
	own := initializers(base)
	for _, name := range meta.Shared {
		t, ok := own[name]
		if !ok {
			return nil, fmt.Errorf("initializer %q is not in the model", name)
		}
		m.Graph.Initializer = append(m.Graph.Initializer, t)
	}
	table, ok := own[meta.EmbeddingTable]
	if !ok {
		return nil, fmt.Errorf("embedding table %q is not in the model", meta.EmbeddingTable)
	}
	return &Graph{Model: m, Spec: meta.Spec, EmbeddingTable: meta.EmbeddingTable, Hidden: meta.Hidden, Classes: meta.Classes,
		Inputs: meta.Inputs, InputsEmbeds: InputsEmbeds, TargetIndex: TargetIndexInput, TargetPosition: meta.TargetPosition,
		Target: TargetOutput, Grad: GradOutput, EmbedsType: meta.EmbedsType, table: table, targetType: meta.TargetType,
		intTypes: meta.IntTypes}, nil
}

// initializers maps m's initializers by name.
func initializers(m *onnxpb.ModelProto) map[string]*onnxpb.TensorProto {
	own := map[string]*onnxpb.TensorProto{}
	for _, t := range m.GetGraph().GetInitializer() {
		own[t.GetName()] = t
	}
	return own
}

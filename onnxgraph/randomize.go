package onnxgraph

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// RandomizeFile writes to outPath the model at modelPath with the named
// initializers redrawn: each element of tensor T becomes mean(T) + std(T)·z,
// z a standard normal drawn from a PCG stream seeded by (seed, FNV-1a 64 of
// T's name), so a tensor's new values depend on the run seed and its name
// only, not on which other tensors are redrawn. mean and std (population) are
// T's own; a tensor with no spread (a LayerNorm's gamma of ones, a zero bias)
// keeps its values, as re-initialising it would. Names must be FLOAT or DOUBLE
// initializers. changed lists, in graph order, the tensors whose bytes differ.
//
// As with ExposeFile, the tensors left alone keep their external-data
// references relative to the original's folder (the written model is opened
// with ONNX Runtime's external-data folder set there, inference.LoadOptions.Graph);
// redrawn tensors are written inline, so the redrawn weights must fit a
// protobuf (2 GiB).
func RandomizeFile(modelPath, outPath string, names []string, seed uint64) (changed []string, err error) {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: reading model: %w", err)
	}
	m, err := ParseFile(modelPath, data)
	if err != nil {
		return nil, err
	}
	raw, err := decode(data)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	root, err := filepath.EvalSymlinks(filepath.Dir(modelPath))
	if err != nil {
		return nil, fmt.Errorf("onnxgraph: model folder: %w", err)
	}
	redrawn := map[string]bool{}
	for _, t := range m.GetGraph().GetInitializer() {
		if !want[t.GetName()] {
			continue
		}
		delete(want, t.GetName())
		dt := onnxpb.TensorProto_DataType(t.GetDataType())
		if dt != onnxpb.TensorProto_FLOAT && dt != onnxpb.TensorProto_DOUBLE {
			return nil, fmt.Errorf("onnxgraph: %s: initializer %q is %s, not a float tensor", modelPath, t.GetName(), dt)
		}
		vals, err := floatValues(t, root)
		if err != nil {
			return nil, fmt.Errorf("onnxgraph: %s: %w", modelPath, err)
		}
		mean, std := meanStd(vals)
		if std == 0 || math.IsNaN(std) {
			continue
		}
		h := fnv.New64a()
		h.Write([]byte(t.GetName()))
		rng := rand.New(rand.NewPCG(seed, h.Sum64()))
		var buf []byte
		if dt == onnxpb.TensorProto_FLOAT {
			buf = make([]byte, 4*len(vals))
			for i := range vals {
				binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(mean+std*rng.NormFloat64())))
			}
		} else {
			buf = make([]byte, 8*len(vals))
			for i := range vals {
				binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(mean+std*rng.NormFloat64()))
			}
		}
		t.RawData, t.FloatData, t.DoubleData, t.ExternalData, t.DataLocation = buf, nil, nil, nil, nil
		redrawn[t.GetName()] = true
		changed = append(changed, t.GetName())
	}
	for n := range want {
		return nil, fmt.Errorf("onnxgraph: %s has no initializer %q", modelPath, n)
	}
	// The others go back to exactly what the source file holds (external references included).
	src := map[string]*onnxpb.TensorProto{}
	for _, t := range raw.GetGraph().GetInitializer() {
		src[t.GetName()] = t
	}
	inits := m.GetGraph().GetInitializer()
	for k, t := range inits {
		if s := src[t.GetName()]; s != nil && !redrawn[t.GetName()] {
			inits[k] = proto.Clone(s).(*onnxpb.TensorProto)
		}
	}
	if err := Save(m, outPath); err != nil {
		return nil, err
	}
	return changed, nil
}

// floatValues returns a float tensor's values, reading external data under root.
func floatValues(t *onnxpb.TensorProto, root string) ([]float64, error) {
	if t.GetDataLocation() != onnxpb.TensorProto_EXTERNAL {
		_, f, err := TensorValues(t)
		return f, err
	}
	e, err := externalOf(t)
	if err != nil {
		return nil, err
	}
	_, size, err := tensorBytes(t)
	if err != nil {
		return nil, err
	}
	df, err := openDataFile(root, e.Location)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	defer df.f.Close()
	if e.Offset > df.size || size > df.size-e.Offset {
		return nil, fmt.Errorf("tensor %q: external data lies beyond the end of %s", t.GetName(), e.Location)
	}
	buf := make([]byte, size)
	if _, err := df.f.ReadAt(buf, e.Offset); err != nil {
		return nil, fmt.Errorf("tensor %q: reading %s: %w", t.GetName(), e.Location, err)
	}
	c := proto.Clone(t).(*onnxpb.TensorProto)
	c.RawData, c.ExternalData, c.DataLocation = buf, nil, nil
	_, f, err := TensorValues(c)
	return f, err
}

// meanStd returns the mean and population standard deviation of v (two passes).
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return 0, 0
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

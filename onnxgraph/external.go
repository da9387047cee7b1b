package onnxgraph

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// External is where one tensor's bytes live outside the model file
// (TensorProto.external_data, ONNX's external data format).
type External struct {
	// Location is the data file, relative to the model's folder.
	Location string
	// Offset is the first byte of the tensor in the file.
	Offset int64
	// Length is the tensor's byte length; -1 means "to the end of the file".
	Length int64
}

// externalOf parses t's external_data entries.
func externalOf(t *onnxpb.TensorProto) (External, error) {
	e := External{Length: -1}
	for _, kv := range t.GetExternalData() {
		switch kv.GetKey() {
		case "location":
			e.Location = kv.GetValue()
		case "offset", "length":
			n, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || n < 0 {
				return e, fmt.Errorf("tensor %q: external data %s %q is not a byte count", t.GetName(), kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				e.Offset = n
			} else {
				e.Length = n
			}
		}
	}
	if e.Location == "" {
		return e, fmt.Errorf("tensor %q: external data without a location", t.GetName())
	}
	return e, nil
}

// externalTensors calls fn for every tensor stored as external data, wherever
// eachTensor finds it (initializers, sparse values, Constant-like attributes, in
// subgraphs and functions too).
func externalTensors(m *onnxpb.ModelProto, fn func(t *onnxpb.TensorProto) error) error {
	return eachTensor(m, func(t *onnxpb.TensorProto, _ string) error {
		if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			return fn(t)
		}
		return nil
	})
}

// dataFile is one external data file, opened once and checked once.
type dataFile struct {
	f    *os.File
	size int64
}

// resolveExternal inlines the small external tensors of m, a model Check has
// passed with the folder dir (at most MaxFoldedElements elements, the values
// shape inference may need). Big tensors stay external, so an edited model
// references the weights instead of copying them. Locations are opened through
// openDataFile again, so a file swapped since Check is still held to the folder.
func resolveExternal(m *onnxpb.ModelProto, dir string) (err error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("model folder %s: %w", dir, err)
	}
	files := map[string]*dataFile{}
	defer func() {
		for _, df := range files {
			df.f.Close()
		}
	}()
	return externalTensors(m, func(t *onnxpb.TensorProto) error {
		n, size, err := tensorBytes(t)
		if err != nil || n > MaxFoldedElements {
			return err
		}
		e, err := externalOf(t)
		if err != nil {
			return err
		}
		df, ok := files[e.Location]
		if !ok {
			if df, err = openDataFile(root, e.Location); err != nil {
				return fmt.Errorf("tensor %q: %w", t.GetName(), err)
			}
			files[e.Location] = df
		}
		if e.Offset > df.size || size > df.size-e.Offset {
			return fmt.Errorf("tensor %q: external data at bytes %d..%d lies beyond the end of %s (%d bytes)", t.GetName(), e.Offset, e.Offset+size, e.Location, df.size)
		}
		raw := make([]byte, size)
		if _, err := df.f.ReadAt(raw, e.Offset); err != nil {
			return fmt.Errorf("tensor %q: reading %s: %w", t.GetName(), e.Location, err)
		}
		t.RawData, t.ExternalData, t.DataLocation = raw, nil, nil
		return nil
	})
}

// ortMemoryAddressTag is the location ONNX Runtime reads as "the offset is a
// memory address in this process" rather than as a file name (tensorprotoutils'
// kTensorProtoMemoryAddressTag). A model file has no business naming it: a
// folder laid out to match would pass the folder check below while ONNX Runtime
// read whatever memory the offset points at.
const ortMemoryAddressTag = "*/_ORT_MEM_ADDR_/*"

// openDataFile opens location under root after checking it stays there.
func openDataFile(root, location string) (*dataFile, error) {
	if location == ortMemoryAddressTag {
		return nil, fmt.Errorf("external data location %q is ONNX Runtime's in-memory address tag, which a model file may not use", location)
	}
	if filepath.IsAbs(location) || strings.HasPrefix(location, "/") || strings.HasPrefix(location, `\`) {
		return nil, fmt.Errorf("external data location %q is an absolute path; it must be relative to the model's folder", location)
	}
	clean := filepath.Clean(filepath.FromSlash(location))
	if clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("external data location %q leaves the model's folder", location)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, clean))
	if err != nil {
		return nil, fmt.Errorf("external data file %q: %w", location, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("external data location %q resolves to %s, outside the model's folder", location, real)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, fmt.Errorf("external data file: %w", err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("external data location %q is not a regular file", location)
	}
	return &dataFile{f: f, size: st.Size()}, nil
}

// ExternalFiles returns the data files m's tensors live in (locations relative to its folder), sorted.
func ExternalFiles(m *onnxpb.ModelProto) ([]string, error) {
	seen := map[string]bool{}
	err := externalTensors(m, func(t *onnxpb.TensorProto) error {
		e, err := externalOf(t)
		if err != nil {
			return err
		}
		seen[e.Location] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out, nil
}

// SaveExternal writes m to path with every initializer holding at least minBytes
// (and at least one) bytes of raw_data moved to the file location beside it (ONNX's external data
// format, as torch.onnx.export writes models over 2 GiB); m is not modified.
// Both files are written through temporary files and renames.
func SaveExternal(m *onnxpb.ModelProto, path, location string, minBytes int) error {
	if filepath.IsAbs(location) || filepath.Base(location) != location {
		return fmt.Errorf("onnxgraph: external data location %q must be a file name beside the model", location)
	}
	out := proto.Clone(m).(*onnxpb.ModelProto)
	var data []byte
	for _, t := range out.GetGraph().GetInitializer() {
		if len(t.GetRawData()) == 0 || len(t.GetRawData()) < minBytes || t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
			continue
		}
		// ONNX Runtime maps external data with the tensor's alignment; 64-byte offsets satisfy every type.
		for len(data)%64 != 0 {
			data = append(data, 0)
		}
		offset := len(data)
		data = append(data, t.GetRawData()...)
		ext := onnxpb.TensorProto_EXTERNAL
		t.DataLocation = &ext
		t.ExternalData = []*onnxpb.StringStringEntryProto{
			{Key: strPtr("location"), Value: strPtr(location)},
			{Key: strPtr("offset"), Value: strPtr(strconv.Itoa(offset))},
			{Key: strPtr("length"), Value: strPtr(strconv.Itoa(len(t.GetRawData())))},
		}
		t.RawData = nil
	}
	if err := writeFileAtomic(filepath.Join(filepath.Dir(path), location), data); err != nil {
		return err
	}
	return Save(out, path)
}

package gradient

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/glassbox-ai/glassbox/onnxgraph"
	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// EmbeddingRows returns the rows of the word-embedding table for ids, as
// float32 [len(ids)·Hidden] row-major: the inputs_embeds of those tokens.
// A table held in the model is decoded from its raw bytes (or with
// onnxgraph.TensorValues for typed fields); a table in external data (onnxgraph.Load
// keeps tensors over 4096 elements there) is read row by row from its file in
// Dir, whose location must stay inside Dir.
func (r *Graph) EmbeddingRows(ids []int64) ([]float32, error) {
	t := r.table
	if t == nil {
		return nil, fmt.Errorf("gradient: no embedding table recorded")
	}
	vocab, h := t.GetDims()[0], t.GetDims()[1]
	for _, id := range ids {
		if id < 0 || id >= vocab {
			return nil, fmt.Errorf("gradient: token id %d outside the embedding table's %d rows", id, vocab)
		}
	}
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	size := int64(4)
	if dt == onnxpb.TensorProto_DOUBLE {
		size = 8
	}
	rowBytes := h * size
	out := make([]float32, 0, int64(len(ids))*h)
	decode := func(raw []byte) {
		for k := int64(0); k < h; k++ {
			if size == 4 {
				out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:])))
			} else {
				out = append(out, float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*k:]))))
			}
		}
	}
	switch {
	case t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL:
		f, offset, length, err := openExternal(r.Dir, t)
		if err != nil {
			return nil, fmt.Errorf("gradient: embedding table %q: %w", t.GetName(), err)
		}
		defer f.Close()
		if length != vocab*rowBytes {
			return nil, fmt.Errorf("gradient: embedding table %q: external data holds %d bytes; dims %v need %d", t.GetName(), length, t.GetDims(), vocab*rowBytes)
		}
		buf := make([]byte, rowBytes)
		for _, id := range ids {
			if _, err := f.ReadAt(buf, offset+id*rowBytes); err != nil {
				return nil, fmt.Errorf("gradient: embedding table %q: reading row %d: %w", t.GetName(), id, err)
			}
			decode(buf)
		}
	case len(t.GetRawData()) > 0:
		raw := t.GetRawData()
		if int64(len(raw)) != vocab*rowBytes {
			return nil, fmt.Errorf("gradient: embedding table %q: %d raw bytes; dims %v need %d", t.GetName(), len(raw), t.GetDims(), vocab*rowBytes)
		}
		for _, id := range ids {
			decode(raw[id*rowBytes : (id+1)*rowBytes])
		}
	default:
		_, vals, err := onnxgraph.TensorValues(t)
		if err != nil {
			return nil, fmt.Errorf("gradient: embedding table: %w", err)
		}
		for _, id := range ids {
			for _, v := range vals[id*h : (id+1)*h] {
				out = append(out, float32(v))
			}
		}
	}
	return out, nil
}

// openExternal opens the file holding t's external data, checking that its
// location is a relative path that stays inside dir once links are resolved
// and that the tensor's bytes lie inside the file; it returns the file, the
// tensor's offset and its length.
func openExternal(dir string, t *onnxpb.TensorProto) (*os.File, int64, int64, error) {
	if dir == "" {
		return nil, 0, 0, fmt.Errorf("stored as external data but the model's folder is unknown (build with BuildFile or set Graph.Dir)")
	}
	var location string
	offset, length := int64(0), int64(-1)
	for _, kv := range t.GetExternalData() {
		switch kv.GetKey() {
		case "location":
			location = kv.GetValue()
		case "offset", "length":
			n, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || n < 0 {
				return nil, 0, 0, fmt.Errorf("external data %s %q is not a byte count", kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				offset = n
			} else {
				length = n
			}
		}
	}
	if location == "" {
		return nil, 0, 0, fmt.Errorf("external data without a location")
	}
	if filepath.IsAbs(location) || strings.HasPrefix(location, "/") || strings.HasPrefix(location, `\`) {
		return nil, 0, 0, fmt.Errorf("external data location %q is absolute; it must be relative to the model's folder", location)
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("model folder: %w", err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.Clean(filepath.FromSlash(location))))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("external data file %q: %w", location, err)
	}
	if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, 0, 0, fmt.Errorf("external data location %q resolves outside the model's folder", location)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("external data: %w", err)
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, 0, fmt.Errorf("external data location %q is not a regular file", location)
	}
	if length < 0 {
		length = st.Size() - offset
	}
	if offset > st.Size() || length < 0 || offset+length > st.Size() {
		f.Close()
		return nil, 0, 0, fmt.Errorf("external data bytes %d..%d lie beyond the end of %s (%d bytes)", offset, offset+length, location, st.Size())
	}
	return f, offset, length, nil
}

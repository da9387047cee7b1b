package onnxgraph

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/glassbox-ai/glassbox/onnxgraph/onnxpb"
)

// isFloatType reports whether values of dt are held as Floats rather than Ints in a TensorInfo.
func isFloatType(dt onnxpb.TensorProto_DataType) bool {
	switch dt {
	case onnxpb.TensorProto_FLOAT, onnxpb.TensorProto_DOUBLE, onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

// isIntType reports whether dt is an integer or boolean type whose values fit in int64.
func isIntType(dt onnxpb.TensorProto_DataType) bool {
	switch dt {
	case onnxpb.TensorProto_INT64, onnxpb.TensorProto_INT32, onnxpb.TensorProto_INT16, onnxpb.TensorProto_INT8,
		onnxpb.TensorProto_UINT8, onnxpb.TensorProto_UINT16, onnxpb.TensorProto_UINT32, onnxpb.TensorProto_UINT64,
		onnxpb.TensorProto_BOOL:
		return true
	}
	return false
}

// TensorValues decodes a TensorProto's contents as int64 (integer and bool types) or
// float64 (float types); exactly one of the two results is non-nil on success.
func TensorValues(t *onnxpb.TensorProto) (ints []int64, floats []float64, err error) {
	dt := onnxpb.TensorProto_DataType(t.GetDataType())
	n := numel(t.GetDims())
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL {
		return nil, nil, fmt.Errorf("tensor %q: its values are stored as external data (load the model with Load to read small ones in)", t.GetName())
	}
	raw := t.GetRawData()
	le := binary.LittleEndian
	check := func(got int) error {
		if int64(got) != n {
			return fmt.Errorf("tensor %q: has %d values, dims %v need %d", t.GetName(), got, t.GetDims(), n)
		}
		return nil
	}
	switch dt {
	case onnxpb.TensorProto_FLOAT:
		if raw != nil {
			floats = make([]float64, len(raw)/4)
			for i := range floats {
				floats[i] = float64(math.Float32frombits(le.Uint32(raw[4*i:])))
			}
		} else {
			floats = make([]float64, len(t.GetFloatData()))
			for i, v := range t.GetFloatData() {
				floats[i] = float64(v)
			}
		}
		return nil, floats, check(len(floats))
	case onnxpb.TensorProto_DOUBLE:
		if raw != nil {
			floats = make([]float64, len(raw)/8)
			for i := range floats {
				floats[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
			}
		} else {
			floats = append([]float64{}, t.GetDoubleData()...)
		}
		return nil, floats, check(len(floats))
	case onnxpb.TensorProto_FLOAT16, onnxpb.TensorProto_BFLOAT16:
		var bits []uint16
		if raw != nil {
			bits = make([]uint16, len(raw)/2)
			for i := range bits {
				bits[i] = le.Uint16(raw[2*i:])
			}
		} else {
			for _, v := range t.GetInt32Data() {
				bits = append(bits, uint16(v))
			}
		}
		floats = make([]float64, len(bits))
		for i, b := range bits {
			if dt == onnxpb.TensorProto_BFLOAT16 {
				floats[i] = float64(math.Float32frombits(uint32(b) << 16))
			} else {
				floats[i] = halfToFloat(b)
			}
		}
		return nil, floats, check(len(floats))
	case onnxpb.TensorProto_INT64:
		if raw != nil {
			ints = make([]int64, len(raw)/8)
			for i := range ints {
				ints[i] = int64(le.Uint64(raw[8*i:]))
			}
		} else {
			ints = append([]int64{}, t.GetInt64Data()...)
		}
		return ints, nil, check(len(ints))
	case onnxpb.TensorProto_UINT64:
		if raw != nil {
			ints = make([]int64, len(raw)/8)
			for i := range ints {
				ints[i] = int64(le.Uint64(raw[8*i:]))
			}
		} else {
			for _, v := range t.GetUint64Data() {
				ints = append(ints, int64(v))
			}
			if ints == nil {
				ints = []int64{}
			}
		}
		return ints, nil, check(len(ints))
	case onnxpb.TensorProto_INT32, onnxpb.TensorProto_UINT32:
		if raw != nil {
			ints = make([]int64, len(raw)/4)
			for i := range ints {
				if dt == onnxpb.TensorProto_INT32 {
					ints[i] = int64(int32(le.Uint32(raw[4*i:])))
				} else {
					ints[i] = int64(le.Uint32(raw[4*i:]))
				}
			}
		} else if dt == onnxpb.TensorProto_INT32 {
			ints = make([]int64, len(t.GetInt32Data()))
			for i, v := range t.GetInt32Data() {
				ints[i] = int64(v)
			}
		} else {
			ints = make([]int64, len(t.GetUint64Data()))
			for i, v := range t.GetUint64Data() {
				ints[i] = int64(v)
			}
		}
		return ints, nil, check(len(ints))
	case onnxpb.TensorProto_INT16, onnxpb.TensorProto_UINT16, onnxpb.TensorProto_INT8, onnxpb.TensorProto_UINT8, onnxpb.TensorProto_BOOL:
		size := 1
		if dt == onnxpb.TensorProto_INT16 || dt == onnxpb.TensorProto_UINT16 {
			size = 2
		}
		if raw != nil {
			ints = make([]int64, len(raw)/size)
			for i := range ints {
				switch dt {
				case onnxpb.TensorProto_INT16:
					ints[i] = int64(int16(le.Uint16(raw[2*i:])))
				case onnxpb.TensorProto_UINT16:
					ints[i] = int64(le.Uint16(raw[2*i:]))
				case onnxpb.TensorProto_INT8:
					ints[i] = int64(int8(raw[i]))
				default:
					ints[i] = int64(raw[i])
				}
			}
		} else {
			// The proto stores these narrow types widened into int32_data.
			ints = make([]int64, len(t.GetInt32Data()))
			for i, v := range t.GetInt32Data() {
				ints[i] = int64(v)
			}
		}
		return ints, nil, check(len(ints))
	}
	return nil, nil, fmt.Errorf("tensor %q: data type %s is not supported", t.GetName(), dt)
}

func halfToFloat(h uint16) float64 {
	sign := float64(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int((h >> 10) & 0x1f)
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * frac * math.Pow(2, -24)
	case 31:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * (1 + frac/1024) * math.Pow(2, float64(exp-15))
}

// Int64Tensor builds an INT64 TensorProto with the given dims and values.
func Int64Tensor(name string, dims []int64, values []int64) *onnxpb.TensorProto {
	dt := int32(onnxpb.TensorProto_INT64)
	return &onnxpb.TensorProto{Name: strPtr(name), Dims: append([]int64{}, dims...), DataType: &dt, Int64Data: append([]int64{}, values...)}
}

// FloatTensor builds a FLOAT TensorProto with the given dims and values.
func FloatTensor(name string, dims []int64, values []float32) *onnxpb.TensorProto {
	dt := int32(onnxpb.TensorProto_FLOAT)
	return &onnxpb.TensorProto{Name: strPtr(name), Dims: append([]int64{}, dims...), DataType: &dt, FloatData: append([]float32{}, values...)}
}

func numel(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

package attention

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Weights holds one example's attention probabilities indexed [layer][head][query][key], restricted to its n real positions.
type Weights [][][][]float32

// LastLayer asks Raw for the last layer, the default layer of the raw attention method.
const LastLayer = -1

// Validate checks that w is non-empty, that every head of every layer is an n×n matrix for one common n, and that every weight is finite and non-negative; it returns n.
func Validate(w Weights) (int, error) {
	if len(w) == 0 {
		return 0, fmt.Errorf("attention: no layers")
	}
	n := -1
	for l, layer := range w {
		if len(layer) == 0 {
			return 0, fmt.Errorf("attention: layer %d has no heads", l)
		}
		for h, head := range layer {
			if n < 0 {
				n = len(head)
				if n == 0 {
					return 0, fmt.Errorf("attention: layer %d head %d has no positions", l, h)
				}
			}
			if len(head) != n {
				return 0, fmt.Errorf("attention: layer %d head %d has %d query rows, want %d", l, h, len(head), n)
			}
			for i, row := range head {
				if len(row) != n {
					return 0, fmt.Errorf("attention: layer %d head %d query %d has %d keys, want %d", l, h, i, len(row), n)
				}
				for j, v := range row {
					// Softmax outputs are finite and non-negative; anything else means the
					// tensor was sliced or decoded wrongly, and max-flow needs capacities ≥ 0.
					// One comparison pair rejects NaN (all comparisons false), negatives and +Inf.
					if !(v >= 0 && v <= math.MaxFloat32) {
						return 0, fmt.Errorf("attention: layer %d head %d weight [%d][%d] = %v is not a probability", l, h, i, j, v)
					}
				}
			}
		}
	}
	return n, nil
}

// HeadAverage returns, per layer, the mean over heads of the attention matrices, indexed [layer][query][key]; it returns nil when w fails Validate.
func HeadAverage(w Weights) [][][]float64 {
	n, err := Validate(w)
	if err != nil {
		return nil
	}
	return headAverage(w, n)
}

func headAverage(w Weights, n int) [][][]float64 {
	out := make([][][]float64, len(w))
	for l, layer := range w {
		// One backing array per layer keeps the matrix contiguous for gonum.
		buf := make([]float64, n*n)
		for _, head := range layer {
			for i, row := range head {
				dst := buf[i*n : (i+1)*n]
				for j, v := range row {
					dst[j] += float64(v)
				}
			}
		}
		inv := 1 / float64(len(layer))
		for k := range buf {
			buf[k] *= inv
		}
		rows := make([][]float64, n)
		for i := range rows {
			rows[i] = buf[i*n : (i+1)*n : (i+1)*n]
		}
		out[l] = rows
	}
	return out
}

// residual returns the residual-adjusted, row-normalised matrices A_l = rownorm(0.5·W_l + 0.5·I) as flat row-major n×n slices.
func residual(avg [][][]float64, n int) [][]float64 {
	out := make([][]float64, len(avg))
	for l, wl := range avg {
		a := make([]float64, n*n)
		for i, row := range wl {
			dst := a[i*n : (i+1)*n]
			var sum float64
			for j, v := range row {
				x := 0.5 * v
				if i == j {
					x += 0.5
				}
				dst[j] = x
				sum += x
			}
			// sum ≥ 0.5 because weights are non-negative, so the division is safe;
			// renormalising absorbs float32 softmax rows that do not sum to exactly 1.
			for j := range dst {
				dst[j] /= sum
			}
		}
		out[l] = a
	}
	return out
}

// Rollout computes attention rollout for query position q: attr[j] = R[q][j] where R = A_L ⋯ A_1 is also returned, indexed [row][column].
func Rollout(w Weights, q int) (attr []float64, r [][]float64, err error) {
	n, err := Validate(w)
	if err != nil {
		return nil, nil, fmt.Errorf("attention rollout: %w", err)
	}
	if q < 0 || q >= n {
		return nil, nil, fmt.Errorf("attention rollout: query position %d outside [0, %d)", q, n)
	}
	as := residual(headAverage(w, n), n)
	prod := mat.NewDense(n, n, as[0])
	tmp := mat.NewDense(n, n, nil)
	for l := 1; l < len(as); l++ {
		// Left-multiplying by the next layer gives R = A_L ⋯ A_1: layer l mixes the
		// representations that layer l−1 produced.
		tmp.Mul(mat.NewDense(n, n, as[l]), prod)
		prod, tmp = tmp, prod
	}
	r = make([][]float64, n)
	for i := range r {
		r[i] = mat.Row(nil, i, prod)
	}
	attr = append([]float64(nil), r[q]...)
	return attr, r, nil
}

// Raw returns the head-averaged attention of layer (LastLayer or any negative value for the last) from query q to every key; it returns nil when w is invalid or q or layer is out of range.
func Raw(w Weights, q int, layer int) []float64 {
	n, err := Validate(w)
	if err != nil || q < 0 || q >= n || layer >= len(w) {
		return nil
	}
	if layer < 0 {
		layer = len(w) - 1
	}
	out := make([]float64, n)
	for _, head := range w[layer] {
		for j, v := range head[q] {
			out[j] += float64(v)
		}
	}
	inv := 1 / float64(len(w[layer]))
	for j := range out {
		out[j] *= inv
	}
	return out
}

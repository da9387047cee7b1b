package onnxgraph

import (
	"strings"
	"testing"
)

func TestInferSequenceOps(t *testing.T) {
	runOpCases(t, []opCase{
		{
			name: "SplitToSequence by chunk size, sizes and unit pieces; SequenceAt, SequenceLength, SequenceConstruct, ConcatFromSequence",
			build: func() *builder {
				return newBuilder(18).
					ints("v", []int64{5}, 10, 11, 12, 13, 14).
					ints("two", []int64{}, 2).ints("sizes", []int64{2}, 1, 4).
					ints("m", []int64{2, 3}, 1, 2, 3, 4, 5, 6).
					ints("p0", []int64{}, 0).ints("p1", []int64{}, 1).ints("last", []int64{}, -1).
					node("SplitToSequence", []string{"v", "two"}, []string{"chunks"}).
					node("SequenceAt", []string{"chunks", "last"}, []string{"tail"}).
					node("SequenceAt", []string{"chunks", "p1"}, []string{"mid"}).
					node("SequenceLength", []string{"chunks"}, []string{"len"}).
					node("SplitToSequence", []string{"v", "sizes"}, []string{"bysize"}).
					node("SequenceAt", []string{"bysize", "p1"}, []string{"big"}).
					node("SplitToSequence", []string{"m"}, []string{"cols"}, IntAttribute("axis", 1), IntAttribute("keepdims", 0)).
					node("SequenceAt", []string{"cols", "p0"}, []string{"col0"}).
					node("ConcatFromSequence", []string{"cols"}, []string{"stacked"}, IntAttribute("axis", 0), IntAttribute("new_axis", 1)).
					node("ConcatFromSequence", []string{"chunks"}, []string{"joined"}, IntAttribute("axis", 0)).
					node("SequenceConstruct", []string{"m", "m"}, []string{"pair"}).
					node("SequenceLength", []string{"pair"}, []string{"npair"}).
					node("ConcatFromSequence", []string{"pair"}, []string{"wide"}, IntAttribute("axis", -1))
			},
			want: map[string]want{
				"tail":    {shape: []int64{1}, ints: []int64{14}},
				"mid":     {shape: []int64{2}, ints: []int64{12, 13}},
				"len":     {shape: []int64{}, ints: []int64{3}},
				"big":     {shape: []int64{4}, ints: []int64{11, 12, 13, 14}},
				"col0":    {shape: []int64{2}, ints: []int64{1, 4}},
				"stacked": {shape: []int64{3, 2}, ints: []int64{1, 4, 2, 5, 3, 6}},
				"joined":  {shape: []int64{5}, ints: []int64{10, 11, 12, 13, 14}},
				"npair":   {shape: []int64{}, ints: []int64{2}},
				"wide":    {shape: []int64{2, 6}, ints: []int64{1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}},
			},
		},
		{
			name: "GPT-2's QKV split of an unknown tensor, and Split-18 num_outputs",
			build: func() *builder {
				return newBuilder(18).
					input("qkv", f32, []int64{-1, -1, 96}, []string{"b", "s"}).
					ints("chunk", []int64{}, 32).ints("p2", []int64{}, 2).
					node("SplitToSequence", []string{"qkv", "chunk"}, []string{"seq"}, IntAttribute("axis", 2)).
					node("SequenceAt", []string{"seq", "p2"}, []string{"v"}).
					node("Split", []string{"qkv"}, []string{"q", "k", "vv"}, IntAttribute("axis", 2), IntAttribute("num_outputs", 3)).
					ints("five", []int64{5}, 0, 1, 2, 3, 4).
					node("Split", []string{"five"}, []string{"a", "b"}, IntAttribute("num_outputs", 2))
			},
			inputs: map[string][]int64{"qkv": {2, 7, 96}},
			want: map[string]want{
				"v":  {shape: []int64{2, 7, 32}},
				"vv": {shape: []int64{2, 7, 32}},
				"a":  {shape: []int64{3}, ints: []int64{0, 1, 2}},
				"b":  {shape: []int64{2}, ints: []int64{3, 4}},
			},
		},
	})
}

func TestInferShapesOpErrors(t *testing.T) {
	tests := []struct {
		name    string
		build   func() *builder
		wantErr []string
	}{
		{
			name: "GatherND index out of range",
			build: func() *builder {
				return newBuilder(18).ints("d", []int64{2}, 1, 2).ints("i", []int64{1, 1}, 2).
					node("GatherND", []string{"d", "i"}, []string{"y"})
			},
			wantErr: []string{`"GatherND_y"`, "GatherND index 2 out of range"},
		},
		{
			name: "GatherND tuples longer than the data rank",
			build: func() *builder {
				return newBuilder(18).ints("d", []int64{2}, 1, 2).ints("i", []int64{1, 2}, 0, 0).
					node("GatherND", []string{"d", "i"}, []string{"y"})
			},
			wantErr: []string{"GatherND", "do not fit data rank 1"},
		},
		{
			name: "ScatterND updates of the wrong shape",
			build: func() *builder {
				return newBuilder(18).ints("d", []int64{3}, 1, 2, 3).ints("i", []int64{1, 1}, 0).ints("u", []int64{2}, 5, 6).
					node("ScatterND", []string{"d", "i", "u"}, []string{"y"})
			},
			wantErr: []string{`"ScatterND_y"`, "updates shape [2], want [1]"},
		},
		{
			name: "ScatterElements with an unknown reduction",
			build: func() *builder {
				return newBuilder(18).ints("d", []int64{3}, 1, 2, 3).ints("i", []int64{1}, 0).ints("u", []int64{1}, 5).
					node("ScatterElements", []string{"d", "i", "u"}, []string{"y"}, stringAttribute("reduction", "median"))
			},
			wantErr: []string{"ScatterElements", `reduction "median"`},
		},
		{
			name: "CumSum axis that is not a constant",
			build: func() *builder {
				return newBuilder(18).input("x", f32, []int64{3}, nil).input("a", i64, []int64{}, nil).
					node("CumSum", []string{"x", "a"}, []string{"y"})
			},
			wantErr: []string{`"CumSum_y"`, "axis (input 1) is not a constant"},
		},
		{
			name: "SequenceAt on a tensor",
			build: func() *builder {
				return newBuilder(18).ints("d", []int64{3}, 1, 2, 3).ints("p", []int64{}, 0).
					node("SequenceAt", []string{"d", "p"}, []string{"y"})
			},
			wantErr: []string{"SequenceAt", "not a sequence"},
		},
		{
			name: "Trilu on a vector",
			build: func() *builder {
				return newBuilder(18).ints("d", []int64{3}, 1, 2, 3).node("Trilu", []string{"d"}, []string{"y"})
			},
			wantErr: []string{"Trilu", "rank >= 2"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.build().graph(t).InferShapes(nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

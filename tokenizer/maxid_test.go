package tokenizer

import "testing"

// TestMaxID checks that MaxID takes the largest of the vocabulary's, the added
// tokens', the post-processor's special tokens' and the padding id.
func TestMaxID(t *testing.T) {
	const vocab = `"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":7,"[CLS]":1,"[SEP]":2}}`
	cases := []struct {
		name, json string
		want       int
	}{
		{"vocabulary", `{` + vocab + `}`, 7},
		{"added token", `{` + vocab + `,"added_tokens":[{"id":9,"content":"<x>","special":true}]}`, 9},
		{"template special", `{` + vocab + `,"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"[CLS]","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],"pair":[],"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[12],"tokens":["[CLS]"]}}}}`, 12},
		{"bert processor", `{` + vocab + `,"post_processor":{"type":"BertProcessing","sep":["[SEP]",13],"cls":["[CLS]",1]}}`, 13},
		{"padding", `{` + vocab + `,"padding":{"strategy":"BatchLongest","direction":"Right","pad_to_multiple_of":null,"pad_id":15,"pad_type_id":0,"pad_token":"[PAD]"}}`, 15},
		{"unigram", `{"model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["a",-1],["a",-2]]}}`, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk, err := Parse([]byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			if got := tk.MaxID(); got != c.want {
				t.Errorf("MaxID = %d, want %d", got, c.want)
			}
		})
	}
}

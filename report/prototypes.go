package report

import (
	"fmt"

	"github.com/glassbox-ai/glassbox/schemas"
)

// protoView is the Prototypes section: one group per grouping and class.
type protoView struct {
	Groups []protoGroup
}

// protoGroup is one class's prototypes and criticisms.
type protoGroup struct {
	Grouping, Class string
	Candidates      int64
	Gamma           string
	Prototypes      []protoItem
	Criticisms      []protoItem
}

// protoItem is one selected example as listed.
type protoItem struct {
	Rank                  int32
	ID, Text, Score, Pred string
	Gold                  string
	Wrong                 bool
}

// protoViewOf groups prototypes.parquet's rows (already in file order:
// predicted before gold, class, prototypes before criticisms, rank); nil
// when the run has none.
func protoViewOf(rows []schemas.PrototypeRow) *protoView {
	if len(rows) == 0 {
		return nil
	}
	v := &protoView{}
	for _, r := range rows {
		if n := len(v.Groups); n == 0 || v.Groups[n-1].Grouping != r.Grouping || v.Groups[n-1].Class != r.Class {
			v.Groups = append(v.Groups, protoGroup{Grouping: r.Grouping, Class: r.Class, Candidates: r.Candidates, Gamma: fmt.Sprintf("%.4g", r.Gamma)})
		}
		g := &v.Groups[len(v.Groups)-1]
		it := protoItem{Rank: r.Rank, ID: r.ExampleID, Text: r.Text, Score: fmt.Sprintf("%.4g", r.Score), Pred: fmt.Sprintf("%s (%.2f)", r.PredictedLabel, r.Confidence)}
		if r.GoldLabel != nil {
			it.Gold, it.Wrong = *r.GoldLabel, *r.GoldLabel != r.PredictedLabel
		}
		if r.Kind == schemas.KindCriticism {
			g.Criticisms = append(g.Criticisms, it)
		} else {
			g.Prototypes = append(g.Prototypes, it)
		}
	}
	return v
}

// protoSection is the page's Prototypes section.
const protoSection = `{{define "prototypes"}}{{if .}}<section id="prototypes">
<h2>Prototypes and criticisms</h2>
<p>What the model's representation of each class looks like (<code>prototypes.parquet</code>), by MMD-critic (Kim et al. 2016) over the pooled last hidden states of a seeded sample of each class (the candidates): <b>prototypes</b> are the examples that together best represent the candidates (score: the MMD² reduction each added), <b>criticisms</b> the examples the prototypes represent worst (score: the witness function; positive where the prototypes under-represent the data, negative where they over-represent it). Classes are the model's predicted labels and, where the data has them, the gold labels.</p>
{{range .Groups}}<div class="protos"><h3>{{.Grouping}} label {{.Class}}</h3>
<p class="dim">{{.Candidates}} candidates · RBF γ {{.Gamma}}</p>
<table class="small protos"><thead><tr><th>kind</th><th>rank</th><th>example</th><th>text</th><th>score</th><th>predicted</th><th>gold</th></tr></thead><tbody>
{{range .Prototypes}}<tr><td>prototype</td><td class="num">{{.Rank}}</td><td><code>{{.ID}}</code></td><td>{{printf "%.300s" .Text}}</td><td class="num">{{.Score}}</td><td>{{.Pred}}</td><td>{{.Gold}}{{if .Wrong}} <span class="badge">mispredicted</span>{{end}}</td></tr>{{end}}
{{range .Criticisms}}<tr><td>criticism</td><td class="num">{{.Rank}}</td><td><code>{{.ID}}</code></td><td>{{printf "%.300s" .Text}}</td><td class="num">{{.Score}}</td><td>{{.Pred}}</td><td>{{.Gold}}{{if .Wrong}} <span class="badge">mispredicted</span>{{end}}</td></tr>{{end}}
</tbody></table></div>{{end}}
</section>{{end}}{{end}}`

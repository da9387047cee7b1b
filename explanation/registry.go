package explanation

import (
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Needs says what a method needs from the model besides the scorer.
type Needs struct {
	// Attention is every layer's attention probabilities (the model gets attention surgery).
	Attention bool
	// Gradients are gradients of the explained quantity with respect to the input embeddings.
	Gradients bool
	// HiddenStates are the model's hidden states.
	HiddenStates bool
}

// Params are one method's job parameters: a pointer to a struct whose yaml and
// json tags name the keys of the method's section in a job config, holding
// the defaults when made by Info.Defaults. Field order is the canonical order.
type Params interface {
	// Validate reports the first invalid value, naming its key.
	Validate() error
}

// Masked is implemented by the parameters of methods that make tokens absent:
// they carry a masking request (MaskingAuto, MaskAttention or MaskReplace),
// which the explainer resolves against the model before the method runs.
type Masked interface {
	// MaskingRequest returns the masking the job asked for.
	MaskingRequest() string
}

// Info is one registered method: everything Glassbox knows about it besides its code.
type Info struct {
	// Name is the method's name in job configs, on --methods and on output rows.
	Name string
	// Rank orders methods canonically (configs, output rows): lower first.
	Rank int
	// Needs says what the method needs from the model.
	Needs Needs
	// AttentionStats says that running the method also writes per-head attention statistics.
	AttentionStats bool
	// Faithfulness says that the job's faithfulness option, when enabled (the
	// default), measures the method's rows: true for attributions of f
	// (perturbation and gradient methods), false for the attention methods.
	Faithfulness bool
	// Defaults returns a fresh parameter struct holding the method's defaults.
	Defaults func() Params
	// New builds the method from validated parameters of the type Defaults returns.
	New func(Params) (Method, error)
}

var registry struct {
	sync.RWMutex
	byName map[string]Info
}

// Register adds a method; packages that implement methods call it from init.
// A second registration of a name, or an entry without Defaults or New, is a
// programming error and panics at start-up, as database/sql.Register does.
func Register(info Info) {
	registry.Lock()
	defer registry.Unlock()
	if registry.byName == nil {
		registry.byName = map[string]Info{}
	}
	if _, dup := registry.byName[info.Name]; dup || info.Name == "" || info.Defaults == nil || info.New == nil {
		panic(fmt.Sprintf("explanation: bad or duplicate registration of method %q", info.Name))
	}
	registry.byName[info.Name] = info
}

// Lookup returns the registered method called name.
func Lookup(name string) (Info, bool) {
	registry.RLock()
	defer registry.RUnlock()
	info, ok := registry.byName[name]
	return info, ok
}

// Registered returns every registered method in canonical order (Rank, then name).
func Registered() []Info {
	registry.RLock()
	defer registry.RUnlock()
	out := make([]Info, 0, len(registry.byName))
	for _, info := range registry.byName {
		out = append(out, info)
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].Rank != out[b].Rank {
			return out[a].Rank < out[b].Rank
		}
		return out[a].Name < out[b].Name
	})
	return out
}

// Names returns the registered method names in canonical order.
func Names() []string {
	infos := Registered()
	names := make([]string, len(infos))
	for i, info := range infos {
		names[i] = info.Name
	}
	return names
}

// UnknownMethod is the error for a name no method is registered under.
func UnknownMethod(name string) error {
	return fmt.Errorf("unknown method %q (known: %s)", name, strings.Join(Names(), ", "))
}

// MaskingAuto is the default masking request: attention masking where the model
// honours holes in its attention mask (checked when the model opens), else
// replace masking, with the reason in the run's manifest.
const MaskingAuto = "auto"

// MaskingValues are the masking requests a job may make.
var MaskingValues = []string{MaskingAuto, string(MaskAttention), string(MaskReplace)}

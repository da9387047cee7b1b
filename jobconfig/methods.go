package jobconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/glassbox-ai/glassbox/explanation"
	// Every method registers itself; the config knows them through the registry.
	_ "github.com/glassbox-ai/glassbox/methods"
)

// Methods holds the enabled methods, each with its parameter struct from the
// method registry (explanation.Info.Defaults); the zero value enables none.
type Methods struct {
	params map[string]explanation.Params
}

// NewMethods enables the named methods with their defaults.
func NewMethods(names ...string) (Methods, error) {
	var m Methods
	for _, n := range names {
		info, ok := explanation.Lookup(n)
		if !ok {
			return Methods{}, explanation.UnknownMethod(n)
		}
		m.set(n, info.Defaults())
	}
	return m, nil
}

func (m *Methods) set(name string, p explanation.Params) {
	if m.params == nil {
		m.params = map[string]explanation.Params{}
	}
	m.params[name] = p
}

// Names returns the enabled methods' names in canonical order.
func (m Methods) Names() []string {
	var out []string
	for _, n := range explanation.Names() {
		if m.params[n] != nil {
			out = append(out, n)
		}
	}
	return out
}

// Params returns the enabled method's parameter struct (e.g. *perturbation.KernelSHAPParams), or nil.
func (m Methods) Params(name string) explanation.Params { return m.params[name] }

// Has reports whether any enabled method satisfies pred.
func (m Methods) Has(pred func(explanation.Info) bool) bool {
	for _, n := range m.Names() {
		if info, _ := explanation.Lookup(n); pred(info) {
			return true
		}
	}
	return false
}

// UnmarshalYAML makes a methods mapping list exactly the methods to run, each
// starting from its defaults; "rollout:" with no value enables rollout too.
func (m *Methods) UnmarshalYAML(n *yaml.Node) error {
	*m = Methods{}
	if isNull(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("methods: want a mapping of method names to parameters")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, val := n.Content[i].Value, n.Content[i+1]
		info, ok := explanation.Lookup(name)
		if !ok {
			return fmt.Errorf("methods.%s: unknown method (known: %s)", name, strings.Join(explanation.Names(), ", "))
		}
		p := info.Defaults()
		if !isNull(val) {
			if err := checkKeys(val, reflect.TypeOf(p), "methods."+name); err != nil {
				return err
			}
			if err := val.Decode(p); err != nil {
				return fmt.Errorf("methods.%s: %w", name, err)
			}
		}
		m.set(name, p)
	}
	return nil
}

// MarshalJSON writes the enabled methods as an object in canonical order, every parameter explicit.
func (m Methods) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range m.Names() {
		if i > 0 {
			b.WriteByte(',')
		}
		p, err := json.Marshal(m.params[n])
		if err != nil {
			return nil, fmt.Errorf("methods.%s: %w", n, err)
		}
		fmt.Fprintf(&b, "%q:%s", n, p)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (m *Methods) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("methods: %w", err)
	}
	*m = Methods{}
	for name, v := range raw {
		info, ok := explanation.Lookup(name)
		if !ok {
			return fmt.Errorf("methods.%s: %w", name, explanation.UnknownMethod(name))
		}
		p := info.Defaults()
		if err := json.Unmarshal(v, p); err != nil {
			return fmt.Errorf("methods.%s: %w", name, err)
		}
		m.set(name, p)
	}
	return nil
}

// restrict returns the methods named in a comma list: those already
// configured keep their parameters, the others get defaults; "none" selects
// no method (predictions only, for a job that fits surrogates).
func (m Methods) restrict(list string) (Methods, error) {
	var out Methods
	if strings.TrimSpace(list) == "none" {
		return out, nil
	}
	for _, raw := range strings.Split(list, ",") {
		name := strings.TrimSpace(raw)
		if name == "" || out.params[name] != nil {
			continue
		}
		info, ok := explanation.Lookup(name)
		if !ok {
			return Methods{}, explanation.UnknownMethod(name)
		}
		p := info.Defaults()
		if src := m.params[name]; src != nil {
			// A copy, so the two configs never share a parameter struct.
			reflect.ValueOf(p).Elem().Set(reflect.ValueOf(src).Elem())
		}
		out.set(name, p)
	}
	if len(out.params) == 0 {
		return Methods{}, fmt.Errorf("empty method list (known: %s, or none)", strings.Join(explanation.Names(), ", "))
	}
	return out, nil
}

// validate checks every enabled method's parameters, naming each key by its
// path; no method at all is allowed only when surrogates are fitted
// (predictions only).
func (m Methods) validate(surrogates bool) []error {
	names := m.Names()
	if len(names) == 0 && !surrogates {
		return []error{fmt.Errorf("methods: at least one method is required unless surrogates are fitted or examples.enabled is set (known: %s)", strings.Join(explanation.Names(), ", "))}
	}
	var errs []error
	for _, n := range names {
		if err := m.params[n].Validate(); err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				errs = append(errs, fmt.Errorf("methods.%s.%s", n, line))
			}
		}
	}
	return errs
}

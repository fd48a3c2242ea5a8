// Package jsonschema checks JSON values against the part of JSON Schema
// (2020-12, the dialect of OpenAPI 3.1) that Twinex's API description uses:
// type, const, enum, pattern, properties, required, additionalProperties,
// items, minItems, maxItems, allOf, oneOf, not and local $ref. Other
// keywords are annotations. It is the one validator of the repository: the
// golden-file tests of the api package and the openapi package's own tests
// both use it.
package jsonschema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Validator validates values against schemas found in Root, a JSON
// document decoded into any (a $ref "#/a/b" is resolved in Root). It notes
// the "x-choice" annotation of every schema a value was checked against, so
// that a test can tell which documented choices its data exercises.
type Validator struct {
	Root    any
	Choices map[string]bool
}

// New returns a Validator of the JSON document doc.
func New(doc []byte) (*Validator, error) {
	var root any
	if err := json.Unmarshal(doc, &root); err != nil {
		return nil, fmt.Errorf("jsonschema: %w", err)
	}
	return &Validator{Root: root, Choices: map[string]bool{}}, nil
}

// Decode decodes a JSON value the way Validate expects it: numbers as
// json.Number, so that integers and decimals keep their text.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Resolve returns the part of Root that the local reference ref ("#/a/b",
// with JSON Pointer escapes) names.
func (v *Validator) Resolve(ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, false
	}
	at := v.Root
	if p == "" {
		return at, true
	}
	for _, tok := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := at.(map[string]any)
		if !ok {
			return nil, false
		}
		if at, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return at, true
}

// ValidateRef validates value (decoded by Decode) against the schema that
// ref names; at names the value in the messages ("$").
func (v *Validator) ValidateRef(ref string, value any, at string) []string {
	return v.Validate(map[string]any{"$ref": ref}, value, at)
}

// Validate returns why value does not match schema, one message per fault,
// or nothing when it does.
func (v *Validator) Validate(schema, value any, at string) []string { // long: one pass over the JSON Schema keywords a schema may hold
	s, ok := schema.(map[string]any)
	if !ok {
		return []string{at + ": schema is not an object"}
	}
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if ref, ok := s["$ref"].(string); ok {
		def, found := v.Resolve(ref)
		if !found {
			return []string{at + ": unknown $ref " + ref}
		}
		errs = append(errs, v.Validate(def, value, at)...)
	}
	if c, ok := s["x-choice"].(string); ok && v.Choices != nil {
		v.Choices[c] = true
	}
	if t, ok := s["type"]; ok && !typeIs(t, value) {
		fail("%s is not of type %v", short(value), t)
		return errs
	}
	if c, ok := s["const"]; ok && !sameJSON(c, value) {
		fail("%s is not %v", short(value), c)
	}
	if e, ok := s["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || sameJSON(x, value)
		}
		if !found {
			fail("%s is not one of %v", short(value), e)
		}
	}
	if p, ok := s["pattern"].(string); ok {
		if str, isStr := value.(string); isStr {
			re, err := regexp.Compile(p)
			if err != nil {
				fail("bad pattern %s: %v", p, err)
			} else if !re.MatchString(str) {
				fail("%q does not match %s", str, p)
			}
		}
	}
	if obj, isObj := value.(map[string]any); isObj {
		props, _ := s["properties"].(map[string]any)
		for _, r := range asList(s["required"]) {
			if _, ok := obj[r.(string)]; !ok {
				fail("missing required %q", r)
			}
		}
		for k, x := range obj {
			if ps, ok := props[k]; ok {
				errs = append(errs, v.Validate(ps, x, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("unexpected field %q", k)
				}
			case map[string]any:
				errs = append(errs, v.Validate(ap, x, at+"."+k)...)
			}
		}
	}
	if arr, isArr := value.([]any); isArr {
		if n, ok := s["minItems"].(float64); ok && len(arr) < int(n) {
			fail("%d items, fewer than %v", len(arr), n)
		}
		if n, ok := s["maxItems"].(float64); ok && len(arr) > int(n) {
			fail("%d items, more than %v", len(arr), n)
		}
		if items, ok := s["items"]; ok {
			for i, x := range arr {
				errs = append(errs, v.Validate(items, x, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	}
	for _, sub := range asList(s["allOf"]) {
		errs = append(errs, v.Validate(sub, value, at)...)
	}
	if one := asList(s["oneOf"]); len(one) > 0 {
		matched := 0
		var why []string
		for i, sub := range one {
			if e := v.Validate(sub, value, at); len(e) == 0 {
				matched++
			} else {
				why = append(why, fmt.Sprintf("#%d: %s", i, e[0]))
			}
		}
		if matched != 1 {
			fail("matches %d of oneOf, want 1 (%s)", matched, strings.Join(why, "; "))
		}
	}
	if not, ok := s["not"]; ok && len(v.Validate(not, value, at)) == 0 {
		fail("%s matches a schema it must not (%v)", short(value), not)
	}
	return errs
}

// Choices lists the "x-choice" texts found anywhere in schema.
func Choices(schema any) []string {
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch x := x.(type) {
		case map[string]any:
			if c, ok := x["x-choice"].(string); ok {
				out = append(out, c)
			}
			for _, y := range x {
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(schema)
	return out
}

func asList(x any) []any {
	l, _ := x.([]any)
	return l
}

// typeIs reports whether value has the JSON type t (a name or a list of
// names); numbers are json.Number.
func typeIs(t, value any) bool {
	if l, ok := t.([]any); ok {
		for _, x := range l {
			if typeIs(x, value) {
				return true
			}
		}
		return false
	}
	switch t {
	case "object":
		_, ok := value.(map[string]any)
		return ok
	case "array":
		_, ok := value.([]any)
		return ok
	case "string":
		_, ok := value.(string)
		return ok
	case "boolean":
		_, ok := value.(bool)
		return ok
	case "null":
		return value == nil
	case "number":
		_, ok := value.(json.Number)
		return ok
	case "integer":
		n, ok := value.(json.Number)
		return ok && !strings.ContainsAny(string(n), ".eE")
	}
	return false
}

// sameJSON compares a schema constant with a value decoded with UseNumber.
func sameJSON(c, value any) bool {
	a, _ := json.Marshal(c)
	b, _ := json.Marshal(value)
	return bytes.Equal(a, b)
}

func short(x any) string {
	b, _ := json.Marshal(x)
	if len(b) > 60 {
		return string(b[:60]) + "..."
	}
	return string(b)
}

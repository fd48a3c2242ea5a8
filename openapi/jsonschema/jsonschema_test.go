package jsonschema

import "testing"

// TestValidate covers each keyword once, accepting and refusing.
func TestValidate(t *testing.T) {
	v, err := New([]byte(`{"defs":{"dec":{"type":"string","pattern":"^[0-9]+$","x-choice":"strings"},
	  "obj":{"type":"object","required":["a"],"properties":{"a":{"$ref":"#/defs/dec"},"b":{"enum":["x","y"]},"c":{"const":1}},"additionalProperties":false},
	  "arr":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"integer"}},
	  "one":{"oneOf":[{"type":"string"},{"type":"integer"}]},
	  "nota":{"allOf":[{"type":"object"},{"not":{"required":["z"]}}]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ref, value string
		ok         bool
	}{
		{"#/defs/dec", `"12"`, true}, {"#/defs/dec", `"1.5"`, false}, {"#/defs/dec", `12`, false},
		{"#/defs/obj", `{"a":"1","b":"x","c":1}`, true}, {"#/defs/obj", `{"b":"x"}`, false},
		{"#/defs/obj", `{"a":"1","b":"q"}`, false}, {"#/defs/obj", `{"a":"1","c":2}`, false}, {"#/defs/obj", `{"a":"1","d":0}`, false},
		{"#/defs/arr", `[1]`, true}, {"#/defs/arr", `[]`, false}, {"#/defs/arr", `[1,2,3]`, false}, {"#/defs/arr", `[1.5]`, false},
		{"#/defs/one", `"s"`, true}, {"#/defs/one", `true`, false},
		{"#/defs/nota", `{"y":1}`, true}, {"#/defs/nota", `{"z":1}`, false},
		{"#/defs/none", `1`, false},
	} {
		value, err := Decode([]byte(c.value))
		if err != nil {
			t.Fatal(err)
		}
		errs := v.ValidateRef(c.ref, value, "$")
		if (len(errs) == 0) != c.ok {
			t.Errorf("%s %s: errors %v, want ok=%v", c.ref, c.value, errs, c.ok)
		}
	}
	if !v.Choices["strings"] {
		t.Error("x-choice not noted")
	}
}

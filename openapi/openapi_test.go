package openapi_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinex/twinex/openapi"
	"github.com/twinex/twinex/openapi/jsonschema"
)

// TestDocumentIsWellFormed: the document parses, is OpenAPI 3.1, and every
// $ref in it resolves; every operation has an id, a tag the document
// declares, a 200 (or 101) answer and a security requirement.
func TestDocumentIsWellFormed(t *testing.T) {
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.OpenAPI, "3.1.") {
		t.Errorf("openapi %q, want 3.1.x", d.OpenAPI)
	}
	v, err := jsonschema.New(openapi.JSON())
	if err != nil {
		t.Fatal(err)
	}
	var walk func(x any, at string)
	walk = func(x any, at string) {
		switch x := x.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if _, found := v.Resolve(ref); !found {
					t.Errorf("%s: $ref %s does not resolve", at, ref)
				}
			}
			for k, y := range x {
				walk(y, at+"/"+k)
			}
		case []any:
			for _, y := range x {
				walk(y, at)
			}
		}
	}
	walk(v.Root, "#")
	tags := map[string]bool{}
	for _, tg := range d.Tags {
		tags[tg.Name] = true
	}
	ids := map[string]bool{}
	for _, e := range d.Endpoints("") {
		at := e.Method + " " + e.Path
		if e.OperationID == "" || ids[e.OperationID] {
			t.Errorf("%s: operationId %q missing or repeated", at, e.OperationID)
		}
		ids[e.OperationID] = true
		if len(e.Tags) != 1 || !tags[e.Tags[0]] {
			t.Errorf("%s: tags %v, want one declared tag", at, e.Tags)
		}
		if _, ok := e.Responses["200"]; !ok {
			if _, ws := e.Responses["101"]; !ws {
				t.Errorf("%s: no 200 answer", at)
			}
		}
		if e.Security == nil {
			t.Errorf("%s: no security requirement (use [] for none)", at)
		}
		if e.Method == "POST" && len(e.Security) == 1 && len(e.Security[0]) == 3 && e.XPayload == nil {
			t.Errorf("%s: signed but no x-payload", at)
		}
	}
	if len(ids) < 70 {
		t.Errorf("only %d operations", len(ids))
	}
}

// TestHandlerServesTheDocument: the handler answers the embedded JSON.
func TestHandlerServesTheDocument(t *testing.T) {
	w := httptest.NewRecorder()
	openapi.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/openapi.json", nil))
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	var x map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &x); err != nil || x["paths"] == nil {
		t.Errorf("not the document: %v", err)
	}
}

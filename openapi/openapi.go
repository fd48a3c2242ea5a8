// Package openapi holds Twinex's OpenAPI 3.1 description of its REST API
// (openapi.json, embedded): every public, signed and admin endpoint, their
// fields, response shapes, errors and the signing scheme. It is the one home
// of the response schemas: the api package's golden-file test validates
// every recorded answer against them, so the document cannot drift from
// what the server sends. The server serves it at /openapi.json and the
// dashboard renders it at /docs/api.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
)

//go:embed openapi.json
var doc string

// JSON returns the document's text.
func JSON() []byte { return []byte(doc) }

// Handler serves the document as application/json.
func Handler() http.Handler {
	body := []byte(doc)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-cache")
		w.Write(body)
	})
}

// Document is the part of an OpenAPI document that Twinex's renderer and
// tests read.
type Document struct {
	OpenAPI    string                          `json:"openapi"`
	Info       Info                            `json:"info"`
	Tags       []Tag                           `json:"tags"`
	Paths      map[string]map[string]Operation `json:"paths"`
	Components Components                      `json:"components"`
}

// Info is the document's title and description (Markdown).
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
}

// Tag groups operations.
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Operation is one method on one path. Twinex's extensions: XRoles, the
// roles that may call a signed endpoint; XScope, which account it acts on;
// XPayload, the schema of its X-GEMINI-PAYLOAD fields; XReplayGuarded, that
// a time-based key may not send the same request to it twice.
type Operation struct {
	Tags           []string              `json:"tags"`
	OperationID    string                `json:"operationId"`
	Summary        string                `json:"summary"`
	Description    string                `json:"description"`
	Security       []map[string][]string `json:"security"`
	Parameters     []Parameter           `json:"parameters"`
	RequestBody    *RequestBody          `json:"requestBody"`
	Responses      map[string]Response   `json:"responses"`
	XRoles         []string              `json:"x-roles"`
	XScope         string                `json:"x-scope"`
	XPayload       *Schema               `json:"x-payload"`
	XReplayGuarded bool                  `json:"x-replay-guarded"`
}

// Parameter is a path or query parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required"`
	Description string  `json:"description"`
	Schema      *Schema `json:"schema"`
}

// RequestBody is a JSON request body (the admin API's).
type RequestBody struct {
	Content map[string]MediaType `json:"content"`
}

// Response is one status's answer, or a $ref to a shared one. XReasons
// lists the Gemini reasons answered with its status.
type Response struct {
	Ref         string               `json:"$ref"`
	Description string               `json:"description"`
	Content     map[string]MediaType `json:"content"`
	XReasons    []string             `json:"x-reasons"`
}

// MediaType holds a body's schema.
type MediaType struct {
	Schema *Schema `json:"schema"`
}

// Components holds the shared parts.
type Components struct {
	SecuritySchemes map[string]SecurityScheme `json:"securitySchemes"`
	Responses       map[string]Response       `json:"responses"`
	Schemas         map[string]*Schema        `json:"schemas"`
}

// SecurityScheme is a header key or the admin bearer token. XExample,
// on the signature, is a worked example of signing.
type SecurityScheme struct {
	Type        string            `json:"type"`
	In          string            `json:"in"`
	Name        string            `json:"name"`
	Scheme      string            `json:"scheme"`
	Description string            `json:"description"`
	XExample    *SignatureExample `json:"x-example"`
}

// SignatureExample is a signed payload: Signature is the hex HMAC-SHA384
// of Payload (the X-GEMINI-PAYLOAD text, base64 of JSON) keyed with Secret.
type SignatureExample struct {
	Secret    string `json:"secret"`
	Payload   string `json:"payload"`
	JSON      string `json:"json"`
	Signature string `json:"signature"`
}

// Schema is the part of a JSON Schema the renderer shows. Type is a name or
// a list of names; AdditionalProperties a boolean or a schema.
type Schema struct {
	Ref                  string             `json:"$ref"`
	Type                 json.RawMessage    `json:"type"`
	Description          string             `json:"description"`
	Properties           map[string]*Schema `json:"properties"`
	Required             []string           `json:"required"`
	AdditionalProperties json.RawMessage    `json:"additionalProperties"`
	Items                *Schema            `json:"items"`
	Enum                 []json.RawMessage  `json:"enum"`
	Const                json.RawMessage    `json:"const"`
	Pattern              string             `json:"pattern"`
	Format               string             `json:"format"`
	AllOf                []*Schema          `json:"allOf"`
	OneOf                []*Schema          `json:"oneOf"`
	Not                  *Schema            `json:"not"`
	MinItems             *int               `json:"minItems"`
	MaxItems             *int               `json:"maxItems"`
	XChoice              string             `json:"x-choice"`
	XStatus              map[string]int     `json:"x-status"`
}

// Parse decodes the embedded document.
func Parse() (*Document, error) {
	var d Document
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return &d, nil
}

// Endpoint is one operation with its method and path.
type Endpoint struct {
	Method, Path string
	Operation
}

// Endpoints lists the operations of tag (every operation when tag is ""),
// ordered by path, then method.
func (d *Document) Endpoints(tag string) []Endpoint {
	var out []Endpoint
	for p, item := range d.Paths {
		for _, m := range []string{"get", "post", "put", "patch", "delete"} {
			op, ok := item[m]
			if !ok || (tag != "" && !slices.Contains(op.Tags, tag)) {
				continue
			}
			out = append(out, Endpoint{Method: strings.ToUpper(m), Path: p, Operation: op})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// Response returns the answer an operation documents for status, following
// a $ref to the shared responses.
func (d *Document) Response(op Operation, status string) (Response, bool) {
	r, ok := op.Responses[status]
	if !ok {
		return Response{}, false
	}
	if name, isRef := strings.CutPrefix(r.Ref, "#/components/responses/"); isRef {
		r, ok = d.Components.Responses[name]
	}
	return r, ok
}

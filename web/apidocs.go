package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/twinex/twinex/openapi"
)

// The API reference at /docs/api: the embedded OpenAPI document
// (openapi/openapi.json) rendered on the server, so that it needs no
// script and no CDN, and shows exactly what /openapi.json serves.

// apiReference is the page's data, built once from the document.
type apiReference struct {
	Title, Version string
	Intro          []template.HTML // the document's description, paragraph by paragraph
	Security       []securityRow
	Example        *openapi.SignatureExample // a signed payload, worked through
	Groups         []apiGroup
	Errors         []errorRow
	Shapes         []apiShape
}

type securityRow struct{ Name, Header, Description string }

// apiGroup is one tag's endpoints.
type apiGroup struct {
	Tag, Description, Anchor string
	Endpoints                []apiEndpoint
}

// apiEndpoint is one operation as the page shows it.
type apiEndpoint struct {
	Anchor, Method, Path, Summary string
	Description                   template.HTML // Markdown rendered
	Auth                          string        // how it is authorised
	Roles, Scope                  string        // signed endpoints
	ReplayGuarded                 bool
	Params, Payload, Body         []fieldRow
	BodyType                      []typePart
	Responses                     []responseRow
}

// fieldRow is one field of a shape: its dotted name, its type (a text
// with links to shapes) and notes.
type fieldRow struct {
	Name     string
	In       string // path or query, for parameters
	Type     []typePart
	Required bool
	Notes    string
	Pattern  string // a regular expression the value matches
	Choice   string // a documented disagreement between Gemini's sources
}

type typePart struct{ Text, Link string }

type responseRow struct {
	Status, Description string
	Type                []typePart
	Reasons             []string
}

type errorRow struct {
	Status      int
	Description string
	Reasons     []string
}

// apiShape is a named schema of the document's components.
type apiShape struct {
	Name, Anchor, Description, Choice string
	Type                              []typePart
	Fields                            []fieldRow
}

// newAPIReference builds the page's data from the embedded document.
func newAPIReference() (*apiReference, error) {
	d, err := openapi.Parse()
	if err != nil {
		return nil, err
	}
	ref := &apiReference{Title: d.Info.Title, Version: d.Info.Version}
	for _, p := range strings.Split(d.Info.Description, "\n\n") {
		ref.Intro = append(ref.Intro, markdown(p))
	}
	for _, name := range slices.Sorted(maps.Keys(d.Components.SecuritySchemes)) {
		s := d.Components.SecuritySchemes[name]
		h := s.Name
		if s.Type == "http" {
			h = "Authorization: Bearer …"
		}
		ref.Security = append(ref.Security, securityRow{Name: name, Header: h, Description: s.Description})
		if s.XExample != nil {
			ref.Example = s.XExample
		}
	}
	for _, tag := range d.Tags {
		g := apiGroup{Tag: tag.Name, Description: tag.Description, Anchor: "tag-" + anchor(tag.Name)}
		for _, e := range d.Endpoints(tag.Name) {
			g.Endpoints = append(g.Endpoints, endpointOf(d, e))
		}
		ref.Groups = append(ref.Groups, g)
	}
	var statuses map[string]int
	if r := d.Components.Schemas["Reason"]; r != nil {
		statuses = r.XStatus
	}
	for _, name := range slices.Sorted(maps.Keys(d.Components.Responses)) {
		resp := d.Components.Responses[name]
		if name == "AdminUnauthorized" || len(resp.XReasons) == 0 {
			continue // the admin API's 401, shown with its endpoints
		}
		ref.Errors = append(ref.Errors, errorRow{Status: statuses[resp.XReasons[0]], Description: resp.Description,
			Reasons: slices.Sorted(slices.Values(resp.XReasons))})
	}
	sort.Slice(ref.Errors, func(i, j int) bool { return ref.Errors[i].Status < ref.Errors[j].Status })
	for _, name := range slices.Sorted(maps.Keys(d.Components.Schemas)) {
		s := d.Components.Schemas[name]
		sh := apiShape{Name: name, Anchor: "schema-" + name, Description: s.Description, Choice: s.XChoice, Type: typeOf(s)}
		sh.Fields = fieldsOf(d, s, "")
		ref.Shapes = append(ref.Shapes, sh)
	}
	return ref, nil
}

func endpointOf(d *openapi.Document, e openapi.Endpoint) apiEndpoint {
	x := apiEndpoint{Anchor: "op-" + e.OperationID, Method: e.Method, Path: e.Path, Summary: e.Summary,
		Description: inlineMarkdown(e.Description), ReplayGuarded: e.XReplayGuarded}
	switch {
	case len(e.Security) == 0:
		x.Auth = "None"
	case e.Security[0]["AdminToken"] != nil:
		x.Auth = "Admin token"
	default:
		x.Auth = "Signed (X-GEMINI-APIKEY, X-GEMINI-PAYLOAD, X-GEMINI-SIGNATURE)"
	}
	if len(e.XRoles) > 0 {
		x.Roles = strings.Join(e.XRoles, ", ")
		x.Scope = e.XScope
	}
	for _, p := range e.Parameters {
		x.Params = append(x.Params, fieldRow{Name: p.Name, In: p.In, Type: typeOf(p.Schema), Required: p.Required, Notes: p.Description})
	}
	if e.XPayload != nil {
		x.Payload = fieldsOf(d, e.XPayload, "")
	}
	if e.RequestBody != nil {
		if mt, ok := e.RequestBody.Content["application/json"]; ok {
			x.Body, x.BodyType = fieldsOf(d, mt.Schema, ""), typeOf(mt.Schema)
		}
	}
	for _, st := range slices.Sorted(maps.Keys(e.Responses)) {
		r, _ := d.Response(e.Operation, st)
		row := responseRow{Status: st, Description: r.Description, Reasons: r.XReasons}
		if mt, ok := r.Content["application/json"]; ok && mt.Schema != nil {
			row.Type = typeOf(mt.Schema)
		}
		x.Responses = append(x.Responses, row)
	}
	return x
}

// resolve follows a schema's $ref to the components.
func resolve(d *openapi.Document, s *openapi.Schema) *openapi.Schema {
	for s != nil && s.Ref != "" {
		s = d.Components.Schemas[refName(s.Ref)]
	}
	return s
}

func refName(ref string) string { return strings.TrimPrefix(ref, "#/components/schemas/") }

// fieldsOf lists the fields of an object shape (through allOf, and one
// level into nested objects and arrays of objects that have no name).
func fieldsOf(d *openapi.Document, s *openapi.Schema, prefix string) []fieldRow {
	var out []fieldRow
	if s == nil {
		return nil
	}
	if s.Ref != "" && prefix == "" {
		s = resolve(d, s)
	}
	for _, sub := range append(s.AllOf, s.OneOf...) {
		out = append(out, fieldsOf(d, resolve(d, sub), prefix)...)
	}
	if s.Items != nil && s.Ref == "" && len(s.Properties) == 0 {
		if it := s.Items; it.Ref == "" && (len(it.Properties) > 0 || it.Items != nil) {
			return append(out, fieldsOf(d, it, prefix+"[]")...)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		p := s.Properties[name]
		full := name
		if prefix != "" {
			full = prefix + "." + name
		}
		row := fieldRow{Name: full, Type: typeOf(p), Required: slices.Contains(s.Required, name), Notes: notes(p), Pattern: p.Pattern, Choice: p.XChoice}
		if c := resolve(d, p); c != nil && c.XChoice != "" && row.Choice == "" && p.Ref != "" {
			row.Choice = c.XChoice
		}
		out = append(out, row)
		if p.Ref == "" {
			if len(p.Properties) > 0 {
				out = append(out, fieldsOf(d, p, full)...)
			} else if p.Items != nil && p.Items.Ref == "" && len(p.Items.Properties) > 0 {
				out = append(out, fieldsOf(d, p.Items, full+"[]")...)
			}
		}
	}
	return out
}

// typeOf describes a schema's type in a few words, linking named shapes.
func typeOf(s *openapi.Schema) []typePart {
	if s == nil {
		return nil
	}
	if s.Ref != "" {
		n := refName(s.Ref)
		return []typePart{{Text: n, Link: "#schema-" + n}}
	}
	switch {
	case len(s.Const) > 0:
		return []typePart{{Text: string(s.Const)}}
	case len(s.Enum) > 0:
		var vs []string
		for _, e := range s.Enum {
			vs = append(vs, string(e))
		}
		if len(vs) > 8 {
			return []typePart{{Text: "string (one of " + strconv.Itoa(len(vs)) + ")"}}
		}
		return []typePart{{Text: strings.Join(vs, " | ")}}
	case len(s.AllOf) > 0 || len(s.OneOf) > 0:
		list, sep := s.AllOf, " and "
		if len(s.OneOf) > 0 {
			list, sep = s.OneOf, " or "
		}
		var out []typePart
		for i, sub := range list {
			if i > 0 {
				out = append(out, typePart{Text: sep})
			}
			out = append(out, typeOf(sub)...)
		}
		return out
	}
	types := typeNames(s.Type)
	if slices.Contains(types, "array") && s.Items != nil {
		it := typeOf(s.Items)
		if s.Items.Ref == "" && len(s.Items.Properties) > 0 {
			it = []typePart{{Text: "object"}}
		}
		return append([]typePart{{Text: "array of "}}, it...)
	}
	if slices.Contains(types, "object") && len(s.AdditionalProperties) > 0 && s.AdditionalProperties[0] == '{' {
		var ap openapi.Schema
		if json.Unmarshal(s.AdditionalProperties, &ap) == nil {
			return append([]typePart{{Text: "object of "}}, typeOf(&ap)...)
		}
	}
	if len(types) == 0 {
		return []typePart{{Text: "any"}}
	}
	t := strings.Join(types, " or ")
	if s.Format != "" {
		t += " (" + s.Format + ")"
	}
	return []typePart{{Text: t}}
}

func typeNames(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}

// notes is a field's description with its constraints.
func notes(s *openapi.Schema) string {
	var parts []string
	if s.Description != "" {
		parts = append(parts, s.Description)
	}
	if s.MinItems != nil && s.MaxItems != nil && *s.MinItems == *s.MaxItems {
		parts = append(parts, fmt.Sprintf("exactly %d items", *s.MinItems))
	} else if s.MaxItems != nil && *s.MaxItems == 1 {
		parts = append(parts, "at most one item")
	} else if s.MaxItems != nil {
		parts = append(parts, fmt.Sprintf("at most %d items", *s.MaxItems))
	}
	if len(s.Enum) > 8 {
		var vs []string
		for _, e := range s.Enum {
			vs = append(vs, strings.Trim(string(e), `"`))
		}
		parts = append(parts, "one of "+strings.Join(vs, ", "))
	}
	return strings.Join(parts, "; ")
}

var (
	mdCode   = regexp.MustCompile("`([^`]+)`")
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	mdItem   = regexp.MustCompile(`^[0-9]+\. `)
)

// inlineMarkdown renders `code` and **strong** in one escaped line.
func inlineMarkdown(s string) template.HTML {
	s = template.HTMLEscapeString(s)
	s = mdCode.ReplaceAllString(s, "<code>$1</code>")
	return template.HTML(mdStrong.ReplaceAllString(s, "<strong>$1</strong>")) // escaped above
}

// markdown renders the little Markdown the document's description uses
// (paragraphs, numbered lists, `code` and **strong**), escaping the rest.
func markdown(p string) template.HTML {
	inline := func(s string) string { return string(inlineMarkdown(s)) }
	var b strings.Builder
	var items []string
	lead := ""
	for _, line := range strings.Split(p, "\n") {
		if mdItem.MatchString(line) {
			items = append(items, inline(mdItem.ReplaceAllString(line, "")))
			continue
		}
		lead += inline(line) + " "
	}
	if lead != "" {
		b.WriteString("<p>" + strings.TrimSpace(lead) + "</p>")
	}
	if len(items) > 0 {
		b.WriteString("<ol>")
		for _, it := range items {
			b.WriteString("<li>" + it + "</li>")
		}
		b.WriteString("</ol>")
	}
	return template.HTML(b.String()) // every piece of text was escaped above
}

func anchor(s string) string { return strings.ToLower(strings.ReplaceAll(s, " ", "-")) }

// apiDocs serves the API reference.
func (s *Server) apiDocs(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "apidocs.html", view{Title: "API reference", Nav: "docs", Data: s.apiRef})
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// Request bodies of the admin API and the sandbox controls, JSON objects
// decoded strictly with Gemini's InvalidJson for anything else, and the
// decimal fields of those bodies and of signed payloads.

// decodeBody decodes a JSON object body strictly into v.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return twinex.Errorf(twinex.InvalidJson, "Request body too large")
		}
		return twinex.Errorf(twinex.InvalidJson, "Could not read the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return twinex.Errorf(twinex.InvalidJson, "Invalid JSON: unexpected data after the object")
	}
	return nil
}

// jsonError describes a decoding error without Go's type names.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return twinex.Errorf(twinex.InvalidJson, "Invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		return twinex.Errorf(twinex.InvalidJson, "Invalid JSON: field %q has the wrong type", typ.Field)
	case errors.As(err, &typ):
		return twinex.Errorf(twinex.InvalidJson, "Invalid JSON: expected an object")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return twinex.Errorf(twinex.InvalidJson, "Invalid JSON: the body is empty or cut short")
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return twinex.Errorf(twinex.InvalidJson, "Invalid JSON: unknown field %s", f)
	}
	return twinex.Errorf(twinex.InvalidJson, "Invalid JSON")
}

// requestDecimal is a decimal field of a request body: gemini.Decimal (a
// JSON string or number, kept as text so that no float64 ever holds it),
// except that null is refused: a client that sends null sent no amount,
// and gemini.Decimal, made for reading Gemini's answers, reads null as
// empty.
type requestDecimal struct{ gemini.Decimal }

// UnmarshalJSON accepts a JSON string or number.
func (d *requestDecimal) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || !(b[0] == '"' || b[0] == '-' || ('0' <= b[0] && b[0] <= '9')) {
		return errors.New("expected a decimal string or number")
	}
	return d.Decimal.UnmarshalJSON(b)
}

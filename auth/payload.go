package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/twinex/twinex"
)

// MaxPayloadSize bounds the decoded X-GEMINI-PAYLOAD, in bytes. The largest
// real payloads (an order with options and a client order id) are a few
// hundred bytes.
const MaxPayloadSize = 64 << 10

// Sign returns the signature Gemini clients send in X-GEMINI-SIGNATURE: the
// lower-case hex HMAC-SHA384 of payloadB64 (the X-GEMINI-PAYLOAD header
// exactly as received, never re-encoded) keyed with the bytes of secret
// (used as given, not decoded).
func Sign(secret, payloadB64 string) string {
	return hex.EncodeToString(mac(secret, payloadB64))
}

// Verify reports whether signatureHex is the signature of payloadB64 under
// secret, comparing in constant time. Hex is case-insensitive, so upper-case
// signatures are accepted too (Gemini clients send lower case; the bytes
// are the same either way). Anything that is not exactly 96 hex digits
// (odd length, spaces, a "0x" prefix) is a mismatch. Callers answer a
// mismatch with InvalidSignature.
func Verify(secret, payloadB64, signatureHex string) bool {
	got, err := hex.DecodeString(signatureHex)
	if err != nil {
		return false
	}
	// hmac.Equal is constant-time for equal lengths; the length of a
	// signature is public.
	return hmac.Equal(got, mac(secret, payloadB64))
}

func mac(secret, payloadB64 string) []byte {
	h := hmac.New(sha512.New384, []byte(secret))
	io.WriteString(h, payloadB64)
	return h.Sum(nil)
}

// DecodePayload decodes an X-GEMINI-PAYLOAD header into the top-level keys
// of its JSON object, each with its raw JSON value (so numbers keep their
// exact text; ParseNonce reads "nonce").
//
// Base64: Gemini documents standard base64 with '=' padding. Also accepted,
// because each has exactly one reading: no padding, and the URL-safe
// alphabet ('-' and '_'). Refused: a mix of the two alphabets, wrong
// padding, non-zero trailing bits, and any other character, including the
// spaces and line breaks that Go's decoder would otherwise skip. The
// signature covers the header string itself, so this leniency cannot make
// one signed header mean two things.
//
// JSON: the decoded bytes must be valid UTF-8 holding exactly one JSON
// object (any whitespace and key order), at most MaxPayloadSize bytes.
// A key that appears twice (also when spelt with escapes, "nonce" and
// "\u006eonce") is refused: parsers disagree on which one wins, and a
// payload must mean one thing.
//
// Every error is a *twinex.Error with reason InvalidJson.
func DecodePayload(payloadB64 string) (map[string]json.RawMessage, error) {
	if len(payloadB64) > base64.StdEncoding.EncodedLen(MaxPayloadSize) {
		return nil, payloadError("The payload is larger than "+strconv.Itoa(MaxPayloadSize)+" bytes", nil)
	}
	data, err := decodeBase64(payloadB64)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxPayloadSize {
		return nil, payloadError("The payload is larger than "+strconv.Itoa(MaxPayloadSize)+" bytes", nil)
	}
	if !utf8.Valid(data) {
		return nil, payloadError("The payload is not valid UTF-8", nil)
	}
	return decodeObject(data)
}

// payloadEncodings are the strict encodings decodeBase64 accepts, by
// alphabet (standard, URL-safe) and padding (padded, none), made once:
// Strict and WithPadding return a new Encoding (a few hundred bytes) on
// every call. Never modified.
var payloadEncodings = [2][2]*base64.Encoding{
	{base64.StdEncoding.Strict(), base64.StdEncoding.WithPadding(base64.NoPadding).Strict()},
	{base64.URLEncoding.Strict(), base64.URLEncoding.WithPadding(base64.NoPadding).Strict()},
}

// decodeBase64 decodes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	std, url := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '=':
		case c == '+' || c == '/':
			std = true
		case c == '-' || c == '_':
			url = true
		default:
			return nil, payloadError("The payload is not valid base64", errors.New("invalid character at offset "+strconv.Itoa(i)))
		}
	}
	if std && url {
		return nil, payloadError("The payload is not valid base64", errors.New("mixes the standard and URL-safe alphabets"))
	}
	alphabet, padding := 0, 0
	if url {
		alphabet = 1
	}
	if !strings.HasSuffix(s, "=") {
		padding = 1
	}
	data, err := payloadEncodings[alphabet][padding].DecodeString(s)
	if err != nil {
		return nil, payloadError("The payload is not valid base64", err)
	}
	return data, nil
}

// decodeObject decodes one JSON object, refusing duplicate keys and
// trailing data. A valid object (the case of every real request) is split
// into its members by scanObject, without the decoder's tokens; anything
// else goes through decodeObjectSlow, which says what is wrong with it.
func decodeObject(data []byte) (map[string]json.RawMessage, error) {
	if json.Valid(data) {
		if obj, ok, err := scanObject(data); ok {
			return obj, err
		}
	}
	return decodeObjectSlow(data)
}

// scanObject splits data, which json.Valid accepted, into the members of
// the object it holds. ok is false when data is not an object (a valid
// array, string, ...), left to decodeObjectSlow. Keys with escapes are
// unescaped, so that "nonce" and "\u006eonce" are the same key.
func scanObject(data []byte) (obj map[string]json.RawMessage, ok bool, err error) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false, nil
	}
	obj = make(map[string]json.RawMessage, 8)
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return obj, true, nil
	}
	for {
		end := stringEnd(data, i) // data[i] is the key's opening quote
		rawKey := data[i+1 : end-1]
		key := string(rawKey)
		if !plainKey(rawKey) {
			if err := json.Unmarshal(data[i:end], &key); err != nil {
				return nil, true, payloadError("The payload is not a JSON object", err)
			}
		}
		i = skipSpace(data, end)
		i = skipSpace(data, i+1) // past ':'
		vend := valueEnd(data, i)
		if _, dup := obj[key]; dup {
			return nil, true, payloadError("The payload has the key "+strconv.Quote(truncate(key, 40))+" more than once", nil)
		}
		obj[key] = json.RawMessage(data[i:vend:vend])
		i = skipSpace(data, vend)
		if data[i] == '}' {
			return obj, true, nil
		}
		i = skipSpace(data, i+1) // past ','
	}
}

// plainKey reports whether a key's bytes between its quotes are its value:
// ASCII without escapes. Other keys are unquoted by encoding/json, as
// decodeObjectSlow does (escapes, and its handling of bytes that are not
// UTF-8).
func plainKey(raw []byte) bool {
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the valid JSON string that starts
// at data[i].
func stringEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++ // the escaped byte; \uXXXX's hex digits are plain bytes
		case '"':
			return i + 1
		}
	}
	return i
}

// valueEnd returns the index just past the valid JSON value that starts at
// data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = stringEnd(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	// A number or a literal: up to the next delimiter.
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// decodeObjectSlow is decodeObject through the decoder's tokens, for input
// that is not a valid JSON object: its errors tell which way it is not.
func decodeObjectSlow(data []byte) (map[string]json.RawMessage, error) {
	notObject := func(err error) error {
		return payloadError("The payload is not a JSON object", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, notObject(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, notObject(nil)
	}
	obj := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject(err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, notObject(nil)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, notObject(err)
		}
		if _, dup := obj[key]; dup {
			return nil, payloadError("The payload has the key "+strconv.Quote(truncate(key, 40))+" more than once", nil)
		}
		obj[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, notObject(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, payloadError("The payload has data after the JSON object", err)
	}
	return obj, nil
}

func payloadError(msg string, cause error) error {
	return &twinex.Error{Reason: twinex.InvalidJson, Message: msg, Err: cause}
}

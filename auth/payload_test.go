package auth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/twinex/twinex"
)

// Reference §1.3 test vectors.
const (
	vector1Secret  = "1234abcd"
	vector1Payload = "ewogICAgInJlcXVlc3QiOiAiL3YxL29yZGVyL3N0YXR1cyIsCiAgICAibm9uY2UiOiAxMjM0NTYsCgogICAgIm9yZGVyX2lkIjogMTg4MzQKfQo="
	vector1JSON    = "{\n    \"request\": \"/v1/order/status\",\n    \"nonce\": 123456,\n\n    \"order_id\": 18834\n}\n"
	vector1Sig     = "337cc8b4ea692cfe65b4a85fcc9f042b2e3f702ac956fd098d600ab15705775017beae402be773ceee10719ff70d710f"

	vector2Payload = "eyJyZXF1ZXN0IjogIi92MS9iYWxhbmNlcyIsICJub25jZSI6IDE1MTUxMjM3NDU4NjN9"
	vector2JSON    = `{"request": "/v1/balances", "nonce": 1515123745863}`
	// The reference gives no signature for vector 2; these were computed
	// with Python's hmac module, independently of Go.
	vector2SigDocSecret = "6eab3bcb238450e3d18edd7493af043b65101a05053dee7f5a491dfadf63e82e6def0e2a27246a8b2216522fe158002f"
	vector2Secret       = "29RaGpF1BNz1C21Qp3sM9L9jZniE"
	vector2Sig          = "7efca2ff3d516e4b11e8bc40c8f036de13bf04fb367ef294696cec477e4e863fb803bf2a7091a492611aac5c73caf292"
)

func TestSign(t *testing.T) {
	tests := []struct{ secret, payload, sig string }{
		{vector1Secret, vector1Payload, vector1Sig},
		{vector1Secret, vector2Payload, vector2SigDocSecret},
		{vector2Secret, vector2Payload, vector2Sig},
	}
	for _, tt := range tests {
		if got := Sign(tt.secret, tt.payload); got != tt.sig {
			t.Errorf("Sign(%q, %.20s...) = %s, want %s", tt.secret, tt.payload, got, tt.sig)
		}
	}
}

func TestVerify(t *testing.T) {
	flip := []byte(vector1Sig)
	flip[len(flip)-1] = '0' // ...70f -> ...700
	tests := []struct {
		name                 string
		secret, payload, sig string
		want                 bool
	}{
		{"vector 1", vector1Secret, vector1Payload, vector1Sig, true},
		{"vector 2", vector2Secret, vector2Payload, vector2Sig, true},
		{"upper-case hex", vector1Secret, vector1Payload, strings.ToUpper(vector1Sig), true},
		{"wrong secret", "1234abce", vector1Payload, vector1Sig, false},
		{"secret is not hex-decoded", "\x12\x34\xab\xcd", vector1Payload, vector1Sig, false},
		{"other payload", vector1Secret, vector2Payload, vector1Sig, false},
		{"payload re-encoded without padding", vector1Secret, strings.TrimRight(vector1Payload, "="), vector1Sig, false},
		{"one digit changed", vector1Secret, vector1Payload, string(flip), false},
		{"truncated", vector1Secret, vector1Payload, vector1Sig[:94], false},
		{"odd length", vector1Secret, vector1Payload, vector1Sig[:95], false},
		{"extended", vector1Secret, vector1Payload, vector1Sig + "00", false},
		{"0x prefix", vector1Secret, vector1Payload, "0x" + vector1Sig, false},
		{"surrounding space", vector1Secret, vector1Payload, " " + vector1Sig, false},
		{"not hex", vector1Secret, vector1Payload, strings.Repeat("zz", 48), false},
		{"base64 of the MAC", vector1Secret, vector1Payload, "M3zItOppLP5ltKhfzJ8EKy4/cCrJVv0JjWAKsVcFd1AXvq5AK+dzzu4QcZ/3DXEP", false},
		{"empty", vector1Secret, vector1Payload, "", false},
	}
	for _, tt := range tests {
		if got := Verify(tt.secret, tt.payload, tt.sig); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestDecodePayloadVectors(t *testing.T) {
	for _, tt := range []struct{ b64, json string }{{vector1Payload, vector1JSON}, {vector2Payload, vector2JSON}} {
		obj, err := DecodePayload(tt.b64)
		if err != nil {
			t.Fatalf("DecodePayload: %v", err)
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(tt.json), &want); err != nil {
			t.Fatal(err)
		}
		if len(obj) != len(want) {
			t.Fatalf("got %d keys, want %d: %v", len(obj), len(want), obj)
		}
		for k, v := range want {
			if string(obj[k]) != string(v) {
				t.Errorf("%s = %s, want %s", k, obj[k], v)
			}
		}
	}
	obj, _ := DecodePayload(vector1Payload)
	if string(obj["nonce"]) != "123456" || string(obj["request"]) != `"/v1/order/status"` {
		t.Errorf("vector 1 decodes to %v", obj)
	}
}

func TestDecodePayload(t *testing.T) {
	std := base64.StdEncoding.EncodeToString
	// special encodes with both '+' and '/' in the standard alphabet.
	special := `{"a":"???>>>"}`
	if e := std([]byte(special)); !strings.Contains(e, "+") || !strings.Contains(e, "/") {
		t.Fatalf("%s lacks '+' or '/'", e)
	}
	tests := []struct {
		name string
		b64  string
		keys []string // nil when InvalidJson is expected
	}{
		{"standard padded", std([]byte(`{"request":"/v1/balances","nonce":"1"}`)), []string{"request", "nonce"}},
		{"unpadded", base64.RawStdEncoding.EncodeToString([]byte(`{"nonce":1}`)), []string{"nonce"}},
		{"URL-safe padded", base64.URLEncoding.EncodeToString([]byte(special)), []string{"a"}},
		{"URL-safe unpadded", base64.RawURLEncoding.EncodeToString([]byte(special)), []string{"a"}},
		{"standard with + and /", std([]byte(special)), []string{"a"}},
		{"empty object", std([]byte(`{}`)), []string{}},
		{"whitespace around", std([]byte(" \n{ \"a\" : 1 }\n\t")), []string{"a"}},
		{"nested values", std([]byte(`{"options":["maker-or-cancel"],"x":{"y":[1,{"z":null}]}}`)), []string{"options", "x"}},
		{"keys differing in case", std([]byte(`{"nonce":1,"Nonce":2}`)), []string{"nonce", "Nonce"}},

		{"empty header", "", nil},
		{"mixed alphabets", strings.Replace(std([]byte(special)), "/", "_", 1), nil},
		{"wrong padding", std([]byte(`{"nonce":1}`)) + "=", nil},
		{"non-zero trailing bits", "e30=", []string{}},
		{"non-zero trailing bits tampered", "e31=", nil},
		{"space inside", std([]byte(`{"nonce":1}`))[:4] + " " + std([]byte(`{"nonce":1}`))[4:], nil},
		{"line break inside", std([]byte(`{"nonce":1}`))[:4] + "\n" + std([]byte(`{"nonce":1}`))[4:], nil},
		{"not base64", "{\"nonce\":1}", nil},
		{"JSON array", std([]byte(`[1,2]`)), nil},
		{"JSON string", std([]byte(`"x"`)), nil},
		{"JSON null", std([]byte(`null`)), nil},
		{"not JSON", std([]byte(`nonce=1`)), nil},
		{"truncated JSON", std([]byte(`{"nonce":1`)), nil},
		{"trailing comma", std([]byte(`{"nonce":1,}`)), nil},
		{"trailing data", std([]byte(`{"nonce":1} x`)), nil},
		{"two objects", std([]byte(`{"nonce":1}{"nonce":2}`)), nil},
		{"duplicate key", std([]byte(`{"nonce":1,"nonce":2}`)), nil},
		{"duplicate key by escape", std([]byte(`{"nonce":1,"\u006eonce":2}`)), nil},
		{"invalid UTF-8", std([]byte("{\"a\":\"\xff\"}")), nil},
		{"invalid number", std([]byte(`{"nonce":01}`)), nil},
		{"single quotes", std([]byte(`{'nonce':1}`)), nil},
		{"too large", std([]byte(`{"a":"` + strings.Repeat("x", MaxPayloadSize) + `"}`)), nil},
		{"huge header", strings.Repeat("A", 1<<20), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj, err := DecodePayload(tt.b64)
			if tt.keys == nil {
				if twinex.ErrorReason(err) != twinex.InvalidJson {
					t.Fatalf("DecodePayload = %v, %v; want InvalidJson", obj, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("DecodePayload: %v", err)
			}
			if len(obj) != len(tt.keys) {
				t.Fatalf("keys %v, want %v", obj, tt.keys)
			}
			for _, k := range tt.keys {
				if _, ok := obj[k]; !ok {
					t.Errorf("key %q missing from %v", k, obj)
				}
			}
		})
	}
}

// TestDecodePayloadAtLimit checks that a payload of exactly MaxPayloadSize
// bytes is accepted.
func TestDecodePayloadAtLimit(t *testing.T) {
	body := `{"a":"` + strings.Repeat("x", MaxPayloadSize-8) + `"}`
	if len(body) != MaxPayloadSize {
		t.Fatalf("body is %d bytes", len(body))
	}
	if _, err := DecodePayload(base64.StdEncoding.EncodeToString([]byte(body))); err != nil {
		t.Fatalf("DecodePayload at the limit: %v", err)
	}
}

func TestDecodePayloadNonce(t *testing.T) {
	// What ccxt sends (reference §1.3), through DecodePayload and ParseNonce.
	p := base64.StdEncoding.EncodeToString([]byte(`{"request":"/v1/mytrades","nonce":"1795648308125","symbol":"btcusd","limit_trades":10,"timestamp":1547232911}`))
	obj, err := DecodePayload(p)
	if err != nil {
		t.Fatal(err)
	}
	n, err := ParseNonce(obj["nonce"])
	if err != nil || n.String() != "1795648308125" {
		t.Fatalf("nonce %v, %v", n, err)
	}
}

package mfa

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// rfcSecret is the SHA1 secret of RFC 6238's test vectors, base32-encoded.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

// code computes the TOTP code of secret at step with the standard library
// only, as an independent reference for Verify.
func code(t *testing.T, secret string, step int64) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha1.New, key)
	binary.Write(mac, binary.BigEndian, uint64(step))
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

func TestVerifyRFC6238(t *testing.T) {
	// RFC 6238 Appendix B, SHA1 rows: the 6-digit codes are the last six
	// digits of the 8-digit ones.
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		now := time.Unix(tc.unix, 0)
		want := tc.code[2:]
		if got := code(t, rfcSecret, tc.unix/30); got != want {
			t.Fatalf("reference code at %d = %s, want %s", tc.unix, got, want)
		}
		step, err := Verify(rfcSecret, want, now, 0)
		if err != nil || step != tc.unix/30 {
			t.Errorf("Verify at %d = %d, %v; want step %d", tc.unix, step, err, tc.unix/30)
		}
		// Unpadded and lowercase secrets, as apps and other tools write
		// them, are the same secret.
		lower := strings.ToLower(strings.TrimRight(rfcSecret, "="))
		if _, err := Verify(lower, want, now, 0); err != nil {
			t.Errorf("Verify with unpadded lowercase secret at %d: %v", tc.unix, err)
		}
	}
}

func TestVerifySkew(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	cur := Step(now)
	for d := int64(-3); d <= 3; d++ {
		step, err := Verify(rfcSecret, code(t, rfcSecret, cur+d), now, 0)
		if d >= -Skew && d <= Skew {
			if err != nil || step != cur+d {
				t.Errorf("skew %+d: Verify = %d, %v; want step %d", d, step, err, cur+d)
			}
		} else if !errors.Is(err, ErrInvalidCode) {
			t.Errorf("skew %+d: Verify = %d, %v; want ErrInvalidCode", d, step, err)
		}
	}
}

func TestVerifyReuse(t *testing.T) {
	now := time.Unix(1_700_000_015, 0)
	cur := Step(now)
	c := code(t, rfcSecret, cur)
	last, err := Verify(rfcSecret, c, now, 0)
	if err != nil || last != cur {
		t.Fatalf("first use: %d, %v", last, err)
	}
	// The same code again, in the same step and in the next one.
	for _, at := range []time.Time{now, now.Add(10 * time.Second), now.Add(30 * time.Second)} {
		if _, err := Verify(rfcSecret, c, at, last); !errors.Is(err, ErrReused) {
			t.Errorf("reuse at %v: %v, want ErrReused", at.Unix(), err)
		}
	}
	// An earlier code, still inside the skew window, once a later one was
	// accepted.
	if _, err := Verify(rfcSecret, code(t, rfcSecret, cur-1), now, last); !errors.Is(err, ErrReused) {
		t.Errorf("earlier code after a later one: %v, want ErrReused", err)
	}
	// The next code is fine.
	next, err := Verify(rfcSecret, code(t, rfcSecret, cur+1), now.Add(30*time.Second), last)
	if err != nil || next != cur+1 {
		t.Errorf("next code: %d, %v", next, err)
	}
	// A wrong code is invalid, not reused, even with a lastStep ahead.
	wrong := code(t, rfcSecret, cur+10)
	if _, err := Verify(rfcSecret, wrong, now, last); !errors.Is(err, ErrInvalidCode) {
		t.Errorf("wrong code: %v, want ErrInvalidCode", err)
	}
	if errors.Is(ErrReused, ErrInvalidCode) || errors.Is(ErrInvalidCode, ErrReused) {
		t.Error("ErrReused and ErrInvalidCode are not distinct")
	}
}

func TestVerifyInput(t *testing.T) {
	now := time.Unix(59, 0)
	for in, ok := range map[string]bool{
		"287082":     true,
		"287 082":    true,
		" 287082 ":   true,
		"28 70 82\t": true,
		"28708":      false,
		"2870820":    false,
		"94287082":   false,
		"28708a":     false,
		"287-082":    false,
		"+287082":    false,
		"":           false,
		"２８７０８２":     false, // fullwidth digits are not ASCII digits
	} {
		_, err := Verify(rfcSecret, in, now, 0)
		if ok && err != nil || !ok && !errors.Is(err, ErrInvalidCode) {
			t.Errorf("Verify(%q) = %v", in, err)
		}
	}
	for _, bad := range []string{"", "not base32!", "ABC1"} {
		if _, err := Verify(bad, "287082", now, 0); err == nil || errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrReused) {
			t.Errorf("secret %q: %v, want a secret error", bad, err)
		}
	}
}

func TestStep(t *testing.T) {
	for unix, want := range map[int64]int64{0: 0, 29: 0, 30: 1, 59: 1, -1: -1, -30: -1, -31: -2} {
		if got := Step(time.Unix(unix, 0)); got != want {
			t.Errorf("Step(%d) = %d, want %d", unix, got, want)
		}
	}
}

func TestNewSecret(t *testing.T) {
	e, err := NewSecret("Twinex", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(key) != 20 {
		t.Fatalf("secret %q: %d bytes, %v", e.Secret, len(key), err)
	}
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/Twinex:alice@example.com" {
		t.Errorf("URL %q: scheme %q, host %q, path %q", e.URL, u.Scheme, u.Host, u.Path)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"secret":    e.Secret,
		"issuer":    "Twinex",
		"algorithm": "SHA1",
		"digits":    "6",
		"period":    "30",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("URL %s=%q, want %q", k, got, want)
		}
	}
	// The secret works with Verify.
	now := time.Unix(1_700_000_000, 0)
	if _, err := Verify(e.Secret, code(t, e.Secret, Step(now)), now, 0); err != nil {
		t.Errorf("Verify with a new secret: %v", err)
	}

	if ct := http.DetectContentType(e.QR); ct != "image/png" {
		t.Errorf("QR content type %q", ct)
	}
	img, err := png.Decode(bytes.NewReader(e.QR))
	if err != nil {
		t.Fatalf("QR: %v", err)
	}
	if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 200 || b.Dx() > 400 {
		t.Errorf("QR is %dx%d", b.Dx(), b.Dy())
	}

	uri := QRDataURI(e.QR)
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(uri, prefix) {
		t.Fatalf("data URI %.40q", uri)
	}
	if raw, err := base64.StdEncoding.DecodeString(uri[len(prefix):]); err != nil || !bytes.Equal(raw, e.QR) {
		t.Errorf("data URI does not decode to the PNG: %v", err)
	}

	e2, err := NewSecret("Twinex", "alice@example.com")
	if err != nil || e2.Secret == e.Secret {
		t.Errorf("two secrets are equal: %v", err)
	}
	for _, bad := range [][2]string{{"", "a@example.com"}, {"Twinex", ""}, {"Twin:ex", "a@example.com"}, {"Twinex", "a:b@example.com"}} {
		if _, err := NewSecret(bad[0], bad[1]); err == nil {
			t.Errorf("NewSecret(%q, %q): no error", bad[0], bad[1])
		}
	}
}

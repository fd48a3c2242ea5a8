package main

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// signedRequest is one signed Gemini request, kept so that it can be sent
// again byte for byte, as someone who captured it would.
type signedRequest struct {
	path, key, payload, sig string
}

func signRequest(path, key, secret string, fields map[string]any) signedRequest {
	fields["request"] = path
	raw, _ := json.Marshal(fields)
	b64 := base64.StdEncoding.EncodeToString(raw)
	mac := hmac.New(sha512.New384, []byte(secret))
	mac.Write([]byte(b64))
	return signedRequest{path: path, key: key, payload: b64, sig: hex.EncodeToString(mac.Sum(nil))}
}

// send posts the request to the server at addr and returns the status and
// the Gemini reason of an error answer.
func (r signedRequest) send(t *testing.T, addr string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+r.path, nil)
	req.Header.Set("X-GEMINI-APIKEY", r.key)
	req.Header.Set("X-GEMINI-PAYLOAD", r.payload)
	req.Header.Set("X-GEMINI-SIGNATURE", r.sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var e struct {
		Reason string `json:"reason"`
	}
	json.Unmarshal(body, &e)
	return resp.StatusCode, e.Reason
}

// TestReplayRefusedAcrossRestarts runs the real binary and sends captured
// signed requests again after the server restarted: a state-changing
// request of a time-nonce key (a withdrawal, an order) is never applied a
// second time, and a counter-nonce key's read is refused too, since its
// nonce mark was written at shutdown. A time-nonce key's read may be
// repeated within its window (it changes nothing; Gemini allows it too).
func TestReplayRefusedAcrossRestarts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	t.Run("SIGTERM", func(t *testing.T) { replayAcrossRestart(t, bin, syscall.SIGTERM) })
	// Killed, the server's projection may not have run: the nonce and
	// replay marks of the acknowledged writes are in the journal only.
	t.Run("SIGKILL", func(t *testing.T) { replayAcrossRestart(t, bin, syscall.SIGKILL) })
}

func replayAcrossRestart(t *testing.T, bin string, sig syscall.Signal) {
	dir := t.TempDir()
	cmd, addr := startBinary(t, bin, dir)
	c := newTestClient(t, addr, dir)
	c.must("POST", "/admin/v1/accounts", map[string]any{"email": "replay@example.com", "verified": true}, nil)
	c.must("POST", "/admin/v1/fund", map[string]any{"email": "replay@example.com", "currency": "BTC", "amount": "1"}, nil)
	c.must("POST", "/admin/v1/fund", map[string]any{"email": "replay@example.com", "currency": "USD", "amount": "1000"}, nil)
	var timeKey, counterKey struct {
		Key    string `json:"key"`
		Secret string `json:"secret"`
	}
	c.must("POST", "/admin/v1/keys", map[string]any{"email": "replay@example.com", "roles": "trader,fundmanager", "time_nonce": true}, &timeKey)
	c.must("POST", "/admin/v1/keys", map[string]any{"email": "replay@example.com", "roles": "auditor"}, &counterKey)

	now := strconv.FormatInt(time.Now().Unix(), 10)
	withdraw := signRequest("/v1/withdraw/btc", timeKey.Key, timeKey.Secret, map[string]any{
		"nonce": now, "amount": "0.1", "address": "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"})
	order := signRequest("/v1/order/new", timeKey.Key, timeKey.Secret, map[string]any{
		"nonce": now, "symbol": "btcusd", "amount": "0.01", "price": "1000", "side": "buy", "type": "exchange limit"})
	timeRead := signRequest("/v1/balances", timeKey.Key, timeKey.Secret, map[string]any{"nonce": now})
	counterRead := signRequest("/v1/balances", counterKey.Key, counterKey.Secret, map[string]any{"nonce": fmt.Sprint(time.Now().UnixMilli())})

	for _, r := range []signedRequest{withdraw, order, timeRead, counterRead} {
		if st, reason := r.send(t, addr); st != 200 {
			t.Fatalf("%s: first send %d %s", r.path, st, reason)
		}
	}
	for _, r := range []signedRequest{withdraw, order} {
		if st, reason := r.send(t, addr); st != 400 || reason != "InvalidNonce" {
			t.Fatalf("%s: replay before the restart %d %s", r.path, st, reason)
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	_, addr = startBinary(t, bin, dir)
	c = newTestClient(t, addr, dir)
	replays := []signedRequest{withdraw, order, counterRead}
	if sig == syscall.SIGKILL {
		// A read's nonce mark is kept in memory and written in the
		// background: a crash may lose it, and a read replayed changes
		// nothing. The writes' marks are durable with their effects.
		replays = replays[:2]
	}
	for _, r := range replays {
		if st, reason := r.send(t, addr); st != 400 || reason != "InvalidNonce" {
			t.Errorf("%s (%s): replay after the restart %d %s, want 400 InvalidNonce", r.path, r.key[:8], st, reason)
		}
	}
	if st, reason := timeRead.send(t, addr); st != 200 {
		t.Errorf("a time-nonce read within its window after the restart: %d %s", st, reason)
	}
	var bals []struct {
		Currency, Amount, Held string
	}
	c.must("GET", "/admin/v1/balances?email=replay@example.com", nil, &bals)
	for _, b := range bals {
		if b.Currency == "BTC" && b.Amount != "0.9" || b.Currency == "USD" && b.Amount != "1000" {
			t.Errorf("balances after the replays: %+v (want BTC 0.9 and USD 1000: each applied once)", bals)
		}
	}
	var v verifyResult
	c.must("GET", "/admin/v1/verify", nil, &v)
	if !v.OK {
		t.Fatalf("verify: %+v", v)
	}
}

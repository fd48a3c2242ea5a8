// Package gemini is a typed client for the Gemini exchange REST API. It works
// against Gemini itself (ProductionURL, SandboxURL) and against Twinex, which
// serves the same API at the root of its own host.
//
//	c := gemini.New(gemini.SandboxURL, os.Getenv("GEMINI_API_KEY"), os.Getenv("GEMINI_API_SECRET"))
//	t, err := c.Ticker(ctx, "btcusd")
//	...
//	o, err := c.NewOrder(ctx, gemini.NewOrderRequest{
//		Symbol: "btcusd", Side: gemini.SideBuy,
//		Amount: "0.5", Price: "3633.00",
//		Options: []string{gemini.OptionMakerOrCancel},
//	})
//	if gemini.IsReason(err, "InsufficientFunds") { ... }
//
// # Wire decisions
//
// Public endpoints are GET requests with query parameters. Private endpoints
// are POST requests with an empty body (Content-Length 0, Content-Type
// text/plain, Cache-Control no-cache) whose parameters travel in the signed
// X-GEMINI-PAYLOAD header: standard padded base64 of a JSON object holding
// "request" (the path exactly as called, e.g. "/v1/withdraw/btc"), "nonce" and
// the parameters. X-GEMINI-SIGNATURE is Sign(secret, payload).
//
//   - The nonce is sent as a JSON string of digits ("1795648308125"), the form
//     ccxt sends to Gemini; Gemini and Twinex accept a string or a number. By
//     default it is Unix milliseconds, strictly increasing per Client (see
//     NonceSource for concurrent use); WithTimeNonce sends seconds for
//     time-based-nonce keys.
//   - Money never passes through float64: amounts and prices are Decimal, the
//     exact text of a JSON string or number. Request decimals are sent as JSON
//     strings, as Gemini documents.
//   - Integers that Gemini sends as JSON numbers (timestampms, tid, eid) are
//     int64; order ids, which Gemini sends as JSON strings, are strings. Order
//     id inputs (CancelOrder, OrderStatus) are sent as JSON numbers, the type
//     Gemini documents, after checking that they are decimal integers.
//   - "Since" filters are sent as Unix milliseconds in "timestamp", which
//     Gemini reads as milliseconds because the value is above 1e11.
//   - Path segments (symbols, currencies, networks) are sent in the caller's
//     case; Gemini and Twinex match them case-insensitively.
//
// # Errors
//
// Every non-2xx response, and every JSON object with "result":"error" even
// with HTTP 200, is returned as an *APIError (wrapped with the method and
// path). Branch on its Reason with IsReason, never on the message text.
//
// # Master keys
//
// A master API key acts for one account of its group per request, named by
// the "account" payload field: set it for every account-scoped call with
// WithAccount, or per call with ForAccount. Group-level calls (CreateAccount,
// RenameAccount, ListAccounts, AccountTransfer, Transactions, Roles) never
// get the default account.
package gemini

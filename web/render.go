package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
)

// view is what every page's template gets. Page-specific data is in Data.
type view struct {
	Title   string
	Nav     string // the active navigation item: "home", "settings", "login", "signup"
	User    *twinex.User
	CSRF    string
	Sandbox bool
	Notice  string            // a confirmation shown at the top of the page
	Error   string            // a page-level error, announced to screen readers
	Fields  map[string]string // error messages by field name
	Form    map[string]string // submitted values to show again (never passwords)
	Data    any
	// Alerts summarises the signed-in user's open alerts for the banner.
	Alerts *banner
	// Trading is set when the balances and orders pages exist.
	Trading bool
	// CurrencyData is the script element ccxt scrapes from GET /.
	CurrencyData template.HTML
}

// field is one form input, for the "field" template.
type field struct {
	Name, Label, Type, Autocomplete, Hint string
	Value, Error                          string
	Required                              bool
}

// selectField is one select of a form, for the "select" template.
type selectField struct {
	Name, Label, Hint, Error string
	Options                  []option
}

type option struct {
	Value, Text string
	Selected    bool
}

// newSelect marks the submitted value of the field selected, else def.
func newSelect(v view, name, label, hint string, opts []option, def string) selectField {
	want := v.Form[name]
	if want == "" {
		want = def
	}
	for i := range opts {
		opts[i].Selected = opts[i].Value == want
	}
	return selectField{Name: name, Label: label, Hint: hint, Error: v.Fields[name], Options: opts}
}

var funcs = template.FuncMap{
	// field describes input name of the page's form: fieldOf(view, name,
	// label, type, autocomplete, hint).
	"field": func(v view, name, label, typ, autocomplete, hint string) field {
		f := field{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Hint: hint, Error: v.Fields[name], Required: true}
		if typ != "password" {
			f.Value = v.Form[name]
		}
		return f
	},
	"hasPrefix": strings.HasPrefix,
	"lower":     strings.ToLower,
	// count is a whole number with thousands separators ("100,000").
	"count": func(n int64) string { return group(strconv.FormatInt(n, 10)) },
	// roleName is a role as the key form says it ("Fund Manager").
	"roleName": func(name string) string {
		for _, c := range roleChoices {
			if strings.EqualFold(strings.ReplaceAll(c.Name, " ", ""), name) {
				return c.Name
			}
		}
		return name
	},
	// alertArgs hands one alert and the page's view to the alertItem
	// template.
	"alertArgs": func(v view, a alertRow) struct {
		View  view
		Alert alertRow
	} {
		return struct {
			View  view
			Alert alertRow
		}{v, a}
	},
	"list": func(v ...string) []string { return v },
	// accountSelect, grantSelect and currencySelect describe a select of
	// the page's form: the submitted value is selected, else def.
	"accountSelect": func(v view, name, label, hint string, accounts []accountBalances, def string) selectField {
		var opts []option
		for _, a := range accounts {
			opts = append(opts, option{Value: a.Account.Nickname, Text: a.Account.Name + " (" + a.Account.Nickname + ")"})
		}
		return newSelect(v, name, label, hint, opts, def)
	},
	"grantSelect": func(v view, name, label string, grants []grantRow) selectField {
		var opts []option
		for _, g := range grants {
			opts = append(opts, option{Value: g.Currency, Text: g.Currency + ": add " + g.Amount})
		}
		return newSelect(v, name, label, "", opts, "")
	},
	"countrySelect": func(v view, name, label string) selectField {
		opts := []option{{Value: "", Text: "Choose a country"}}
		for _, c := range countries {
			opts = append(opts, option{Value: c.Code, Text: c.Name})
		}
		f := newSelect(v, name, label, "", opts, "")
		for i := range f.Options {
			f.Options[i].Selected = f.Options[i].Selected || (f.Options[i].Value != "" && strings.EqualFold(f.Options[i].Value, v.Form[name]))
		}
		return f
	},
	// kindSelect is a select of fixed choices; the first is the default.
	"kindSelect": func(v view, name, label string, opts []option) selectField {
		def := ""
		if len(opts) > 0 {
			def = opts[0].Value
		}
		return newSelect(v, name, label, "", append([]option(nil), opts...), def)
	},
	// optionalField is field for an input that may be left empty.
	"optionalField": func(v view, name, label, typ, autocomplete, hint string) field {
		return field{Name: name, Label: label, Type: typ, Autocomplete: autocomplete, Hint: hint, Error: v.Fields[name], Value: v.Form[name]}
	},
	"currencySelect": func(v view, name, label string, codes []string) selectField {
		var opts []option
		for _, c := range codes {
			opts = append(opts, option{Value: c, Text: c})
		}
		return newSelect(v, name, label, "", opts, "")
	},
	"time": func(ns int64) string {
		if ns == 0 {
			return "—"
		}
		return time.Unix(0, ns).UTC().Format("2 Jan 2006 15:04:05 UTC")
	},
}

// parseTemplates parses each page with the layout.
func (s *Server) parseTemplates() error {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("web templates: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return fmt.Errorf("web templates: %w", err)
	}
	s.pages = map[string]*template.Template{}
	for _, name := range names {
		page := path.Base(name)
		if page == "layout.html" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, name)
		if err != nil {
			return fmt.Errorf("web templates: %w", err)
		}
		s.pages[page] = t
	}
	return nil
}

// render writes a page with the common view fields filled in. HTML is
// never cached: pages show account data.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, v view) {
	st := state(r)
	v.User = st.user
	v.Sandbox = s.Sandbox
	v.Trading = s.Exchange != nil
	if st.user != nil && v.Nav != "alerts" {
		v.Alerts = s.bannerFor(r, st.user.ID)
	}
	if v.CSRF == "" {
		v.CSRF = s.formCSRF(w, st)
	}
	if v.Notice == "" {
		v.Notice = notices[r.URL.Query().Get("m")]
	}
	t := s.pages[page]
	if t == nil {
		panic("web: no template " + page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.Logger.Error("web: render", "page", page, "err", err)
		http.Error(w, "Something went wrong.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage shows a short explanation with the status.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	s.render(w, r, status, "error.html", view{Title: title, Data: text})
}

// notices are the confirmations a redirect can ask for with ?m=, so that
// no text from the URL is ever shown.
var notices = map[string]string{
	"logged_out":         "You have logged out.",
	"password_reset":     "Your password has been changed and every session signed out. Log in with your new password.",
	"verify_sent":        "We sent a new verification link to your email address.",
	"sessions_revoked":   "Your other sessions have been signed out.",
	"verified":           "Your email address is verified.",
	"identity_verified":  "Your identity is verified: you can create API keys.",
	"identity_submitted": "Your identity details were sent for review. We will email you the decision.",
	"mfa_disabled":       "Two-factor authentication is off.",
	"reviewed":           "The decision is recorded and the user emailed.",
	"account_created":    "The account is added. Create a key for it, or use a master key with its account value.",
	"key_edited":         "The key is changed. The next request sees its new settings.",
	"key_revoked":        "The key is revoked. Requests signed with it are refused from now on.",
	"alert_dismissed":    "The alert is dismissed. It stays listed below.",
	"test_funds":         "Test funds added. They are sandbox money: use them to try orders and transfers.",
	"transferred":        "The transfer is done. Both accounts' balances below include it.",
	"order_cancelled":    "The order is cancelled and the funds it held are available again.",
	"order_closed":       "That order had already closed (filled or cancelled); nothing was changed.",
	"order_placed":       "The order is placed and rests on the book until it fills or you cancel it.",
	"order_filled":       "The order is placed and filled. See it under Fills.",
	"order_part_filled":  "The order is placed and partly filled; the rest rests on the book.",
	"order_not_booked":   "The order is placed and closed without resting on the book (its execution option); see Order history.",
}

package exchange

import (
	"context"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// UISession is the session of orders placed on the dashboard, as Gemini's
// order events name orders placed on its website.
const UISession = "UI"

// OrderRequest is a new order as a client states it: decimals as text
// (Has* tell a field that was given from one that was not), options
// already read as a list.
type OrderRequest struct {
	Symbol, Side, Type       string
	Amount, Price, StopPrice string
	HasAmount, HasPrice      bool
	HasStop                  bool
	Options                  []string
	ClientOrderID            string
}

// ParseOrder checks a new order's fields in Gemini's order of checks and
// builds the Place command (without account and session). The errors are
// Gemini's: InvalidSymbol, ClientOrderIdTooLong, ClientOrderIdMustBeStr,
// InvalidSide, InvalidOrderType, ConflictingOptions, InvalidOptions,
// InvalidQuantity, InvalidPrice, InvalidStopPrice.
func (s *Service) ParseOrder(req OrderRequest) (engine.Command, *twinex.Market, error) {
	ms := s.Core.Markets()
	m := ms.Market(req.Symbol)
	if m == nil {
		return engine.Command{}, nil, twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", req.Symbol)
	}
	c := engine.Command{Kind: engine.Place, Market: ms.Index(m.Symbol), ClientOrderID: req.ClientOrderID}
	if len(req.ClientOrderID) > 100 {
		return c, nil, twinex.Errorf(twinex.ClientOrderIdTooLong, "client_order_id must be under 100 characters")
	}
	for i := 0; i < len(req.ClientOrderID); i++ {
		if ch := req.ClientOrderID[i]; !(ch == ':' || ch == '-' || ch == '_' || ch == '.' || ch == '#' ||
			'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9') {
			return c, nil, twinex.Errorf(twinex.ClientOrderIdMustBeStr, "client_order_id may contain only letters, digits and the characters :-_.#")
		}
	}
	var err error
	if c.Side, err = twinex.ParseSide(req.Side); err != nil {
		return c, nil, err
	}
	if req.Type == "" {
		return c, nil, twinex.Errorf(twinex.InvalidOrderType, "Missing order type")
	}
	if c.Type, err = twinex.ParseOrderType(req.Type); err != nil {
		return c, nil, err
	}
	if len(req.Options) > 1 {
		return c, nil, twinex.Errorf(twinex.ConflictingOptions, "Only one execution option may be given")
	}
	if len(req.Options) == 1 {
		if c.Option, err = twinex.ParseOption(req.Options[0]); err != nil {
			return c, nil, err
		}
	}
	if !req.HasAmount {
		return c, nil, twinex.Errorf(twinex.InvalidQuantity, "Missing amount")
	}
	if c.Amount, err = m.ParseAmount(req.Amount); err != nil {
		return c, nil, err
	}
	if !req.HasPrice {
		return c, nil, twinex.Errorf(twinex.InvalidPrice, "Missing price")
	}
	if c.Price, err = m.ParsePrice(req.Price); err != nil {
		return c, nil, err
	}
	if c.Type == twinex.StopLimit && !req.HasStop {
		return c, nil, twinex.Errorf(twinex.InvalidStopPrice, "Stop-limit orders need a stop_price")
	}
	if req.HasStop {
		if c.StopPrice, err = m.ParsePrice(req.StopPrice); err != nil {
			return c, nil, twinex.Errorf(twinex.InvalidStopPrice, "Invalid stop price %q", req.StopPrice)
		}
	}
	return c, m, nil
}

// Place places a checked order (ParseOrder's command) for an account in a
// session (an API key's id, or UISession), with the key's use made durable
// with it. A refusal by the engine (InsufficientFunds, ...) is the error,
// with the result the engine gave.
func (s *Service) Place(ctx context.Context, cmd engine.Command, accountID int64, session string, use twinex.KeyUse) (engine.Result, error) {
	cmd.AccountID, cmd.Session = accountID, session
	return s.do(ctx, cmd, use)
}

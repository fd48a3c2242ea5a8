package api

import (
	"context"
	"errors"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
)

// Commands to the core from every handler, and the errors it answers
// with.

// do runs a command and folds the two error paths into one. The command
// runs to its end even if the client goes away: once queued, it may execute,
// and its caller should not be told otherwise.
func (s *Server) do(ctx context.Context, c core.Command) (core.Result, error) {
	res, err := s.Core.Do(context.WithoutCancel(ctx), c)
	if err != nil {
		return res, coreError(err)
	}
	return res, res.Err
}

// coreError turns the core's shutdown into Gemini's Maintenance.
func coreError(err error) error {
	if errors.Is(err, core.ErrClosed) {
		return &twinex.Error{Reason: twinex.Maintenance, Message: "The Gemini Exchange is currently undergoing maintenance. Please try again shortly.", Err: err}
	}
	return err
}

// currency finds a currency by its code: MissingPayloadKey when code is
// empty, InvalidQuantity when no currency has it.
func (s *Server) currency(code string) (*twinex.Currency, error) {
	if code == "" {
		return nil, twinex.Errorf(twinex.MissingPayloadKey, "currency is required")
	}
	cur := s.Core.Markets().Currency(code)
	if cur == nil {
		return nil, twinex.Errorf(twinex.InvalidQuantity, "Unknown currency %q", code)
	}
	return cur, nil
}

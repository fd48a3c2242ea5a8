package api

import (
	"context"
	"sync"

	"github.com/twinex/twinex"
)

// accountCache keeps the accounts that signed requests named, so that a
// master key naming an account, or an account key restating its own,
// costs no query per order. It is correct to keep them for the server's
// life because an account never changes once created (no store method
// updates or deletes one) and a sandbox reset or restore builds a new
// Server. An account created since it was filled is a miss, which reads
// the store again: found at once, as before.
type accountCache struct {
	mu     sync.RWMutex
	byID   map[int64]twinex.Account
	byUser map[int64]map[string]twinex.Account // user -> nickname -> account
}

// account returns account id.
func (c *accountCache) account(ctx context.Context, st twinex.AccountStore, id int64) (twinex.Account, error) {
	c.mu.RLock()
	a, ok := c.byID[id]
	c.mu.RUnlock()
	if ok {
		return a, nil
	}
	a, err := st.Account(ctx, id)
	if err != nil {
		return a, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[int64]twinex.Account{}
	}
	c.byID[id] = a
	return a, nil
}

// named returns the account of user's group with this nickname; ok is
// false when the group has none.
func (c *accountCache) named(ctx context.Context, st twinex.AccountStore, userID int64, nickname string) (a twinex.Account, ok bool, err error) {
	c.mu.RLock()
	a, ok = c.byUser[userID][nickname]
	c.mu.RUnlock()
	if ok {
		return a, true, nil
	}
	list, err := st.Accounts(ctx, userID)
	if err != nil {
		return a, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byUser == nil {
		c.byUser = map[int64]map[string]twinex.Account{}
	}
	group := make(map[string]twinex.Account, len(list))
	for _, x := range list {
		group[x.Nickname] = x
	}
	c.byUser[userID] = group
	a, ok = group[nickname]
	return a, ok, nil
}

package postgres

import (
	"context"
	"fmt"

	"github.com/twinex/twinex"
)

var _ twinex.AddressStore = (*DB)(nil)

// CreateDepositAddress implements twinex.AddressStore.
func (db *DB) CreateDepositAddress(ctx context.Context, a *twinex.DepositAddress) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO deposit_addresses (account_id, network, currency, address, label, created)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		a.AccountID, a.Network, a.Currency, a.Address, a.Label, a.Created).Scan(&a.ID)
	if isConflict(err) {
		return fmt.Errorf("create deposit address: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create deposit address: %w", err)
	}
	return nil
}

// DepositAddresses implements twinex.AddressStore.
func (db *DB) DepositAddresses(ctx context.Context, accountID int64, network string) ([]twinex.DepositAddress, error) {
	return queryAll(ctx, db.pool, "deposit addresses", func(a *twinex.DepositAddress) []any {
		return []any{&a.ID, &a.AccountID, &a.Network, &a.Currency, &a.Address, &a.Label, &a.Created}
	}, `SELECT id, account_id, network, currency, address, label, created
		FROM deposit_addresses WHERE account_id = $1 AND network = $2 ORDER BY id`, accountID, network)
}

// ApproveAddress implements twinex.AddressStore. A removed entry keeps its
// row, so an address removed earlier is inserted anew.
func (db *DB) ApproveAddress(ctx context.Context, a *twinex.ApprovedAddress) error {
	if a.Removed != 0 {
		return fmt.Errorf("approve address: a new entry cannot be removed already")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO approved_addresses
		(account_id, network, address, label, memo, created, active, removed) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)`,
		a.AccountID, a.Network, a.Address, a.Label, a.Memo, a.Created, a.Active)
	if isConflict(err) {
		return fmt.Errorf("approve address: %w", twinex.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("approve address: %w", err)
	}
	return nil
}

// ApprovedAddresses implements twinex.AddressStore.
func (db *DB) ApprovedAddresses(ctx context.Context, accountID int64, network string) ([]twinex.ApprovedAddress, error) {
	return queryAll(ctx, db.pool, "approved addresses", func(a *twinex.ApprovedAddress) []any {
		return []any{&a.AccountID, &a.Network, &a.Address, &a.Label, &a.Memo, &a.Created, &a.Active, &a.Removed}
	}, `SELECT account_id, network, address, label, memo, created, active, removed
		FROM approved_addresses WHERE account_id = $1 AND network = $2 AND removed = 0 ORDER BY id`, accountID, network)
}

// RemoveApprovedAddress implements twinex.AddressStore.
func (db *DB) RemoveApprovedAddress(ctx context.Context, accountID int64, network, address string, now int64) error {
	if now <= 0 {
		// removed = 0 means listed, so a removal needs a positive time.
		return fmt.Errorf("remove approved address: time %d is not positive", now)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE approved_addresses SET removed = $1
		WHERE account_id = $2 AND network = $3 AND address = $4 AND removed = 0`, now, accountID, network, address)
	return affected("remove approved address", tag, err)
}

// AllowlistUsed implements twinex.AddressStore.
func (db *DB) AllowlistUsed(ctx context.Context, accountID int64, network string) (bool, error) {
	var used bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM approved_addresses WHERE account_id = $1 AND network = $2)`,
		accountID, network).Scan(&used)
	if err != nil {
		return false, fmt.Errorf("allowlist used: %w", err)
	}
	return used, nil
}

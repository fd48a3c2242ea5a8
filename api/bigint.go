package api

import "math/big"

// bigInt is a small helper for products that may not fit in an int64.
type bigInt struct{ v big.Int }

func (b *bigInt) mul(x, y int64) *bigInt {
	b.v.Mul(big.NewInt(x), big.NewInt(y))
	return b
}

// div divides by d and returns the result, saturating at the int64 range.
func (b *bigInt) div(d int64) int64 {
	q := new(big.Int).Quo(&b.v, big.NewInt(d))
	if !q.IsInt64() {
		if q.Sign() < 0 {
			return -1 << 63
		}
		return 1<<63 - 1
	}
	return q.Int64()
}

// satAdd adds non-negative statistics, stopping at the int64 maximum.
func satAdd(a, b int64) int64 {
	if a > 1<<63-1-b {
		return 1<<63 - 1
	}
	return a + b
}

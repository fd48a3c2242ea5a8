// Package chainaddr makes and checks blockchain addresses and transaction
// hashes that look real for their network: bech32 and Base58Check for
// bitcoin and litecoin, EIP-55 for ethereum, Base58 for solana. Twinex hands
// them out as deposit addresses and withdrawal hashes, and checks
// withdrawal destinations with them. Standard library only.
package chainaddr

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"golang.org/x/crypto/sha3"
	"math/big"
	"strings"
)

// addressKind is the address family of a network.
type addressKind uint8

const (
	kindOther addressKind = iota
	kindBitcoin
	kindLitecoin
	kindEVM
	kindSolana
)

func kindOf(network string) addressKind {
	switch network {
	case "bitcoin":
		return kindBitcoin
	case "litecoin":
		return kindLitecoin
	case "ethereum", "arbitrum", "avalanche", "base", "polygon", "optimism":
		return kindEVM
	case "solana":
		return kindSolana
	}
	return kindOther
}

// bech32HRPs are the human-readable parts each family accepts (mainnet,
// testnet, regtest).
var bech32HRPs = map[addressKind][]string{
	kindBitcoin:  {"bc", "tb", "bcrt"},
	kindLitecoin: {"ltc", "tltc", "rltc"},
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

// NewDepositAddress returns a fresh random address for network.
func NewDepositAddress(network string) string {
	switch kindOf(network) {
	case kindBitcoin:
		return SegwitAddress("bc", randomBytes(20))
	case kindLitecoin:
		return SegwitAddress("ltc", randomBytes(20))
	case kindEVM:
		return EIP55(hex.EncodeToString(randomBytes(20)))
	case kindSolana:
		return base58(randomBytes(32))
	}
	return base58(randomBytes(25))
}

// NewTxHash returns a random transaction hash in network's form.
func NewTxHash(network string) string {
	switch kindOf(network) {
	case kindEVM:
		return "0x" + hex.EncodeToString(randomBytes(32))
	case kindSolana:
		return base58(randomBytes(64)) // a transaction signature
	}
	return hex.EncodeToString(randomBytes(32))
}

// MaxLength bounds the length of an address.
const MaxLength = 128

// Valid reports whether a has the form of an address on network.
func Valid(network, a string) bool {
	if len(a) > MaxLength {
		return false
	}
	switch k := kindOf(network); k {
	case kindBitcoin, kindLitecoin:
		if hrp, ok := bech32Valid(a); ok {
			for _, h := range bech32HRPs[k] {
				if hrp == h {
					return true
				}
			}
			return false
		}
		b, ok := unbase58(a)
		return ok && len(b) == 25 && base58CheckValid(b)
	case kindEVM:
		return isHexAddress(a) && (a[2:] == strings.ToLower(a[2:]) || a[2:] == strings.ToUpper(a[2:]) || EIP55(a[2:]) == a)
	case kindSolana:
		b, ok := unbase58(a)
		return ok && len(b) == 32
	}
	if len(a) < 8 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] <= ' ' || a[i] > '~' {
			return false
		}
	}
	return true
}

// Canonical returns a in the case addresses are compared in:
// ethereum addresses in EIP-55 case, bech32 ones in lower case.
func Canonical(a string) string {
	if isHexAddress(a) {
		return EIP55(a[2:])
	}
	if _, ok := bech32Valid(a); ok {
		return strings.ToLower(a)
	}
	return a
}

func isHexAddress(a string) bool {
	if len(a) != 42 || a[0] != '0' || (a[1] != 'x' && a[1] != 'X') {
		return false
	}
	_, err := hex.DecodeString(a[2:])
	return err == nil
}

// EIP55 returns "0x" and the 40 hex digits h in EIP-55 checksum case.
func EIP55(h string) string {
	h = strings.ToLower(h)
	k := sha3.NewLegacyKeccak256()
	k.Write([]byte(h))
	sum := k.Sum(nil)
	b := []byte(h)
	for i, c := range b {
		nibble := sum[i/2] >> 4
		if i%2 == 1 {
			nibble = sum[i/2] & 0x0f
		}
		if c >= 'a' && nibble >= 8 {
			b[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(b)
}

const bech32Charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"

// The constants a valid checksum leaves: BIP-173's bech32 (witness v0) and
// BIP-350's bech32m (v1 and above).
const (
	bech32Const  = 1
	bech32mConst = 0x2bc830a3
)

func bech32Polymod(values []byte) uint32 {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	chk := uint32(1)
	for _, v := range values {
		top := chk >> 25
		chk = (chk&0x1ffffff)<<5 ^ uint32(v)
		for i := 0; i < 5; i++ {
			if (top>>i)&1 == 1 {
				chk ^= gen[i]
			}
		}
	}
	return chk
}

func bech32HRPExpand(hrp string) []byte {
	out := make([]byte, 0, 2*len(hrp)+1)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]>>5)
	}
	out = append(out, 0)
	for i := 0; i < len(hrp); i++ {
		out = append(out, hrp[i]&31)
	}
	return out
}

// SegwitAddress encodes a witness version 0 program as a bech32 address.
func SegwitAddress(hrp string, program []byte) string {
	data := []byte{0}
	var acc, bitsN uint
	for _, b := range program { // 8-bit groups to 5-bit groups
		acc = acc<<8 | uint(b)
		bitsN += 8
		for bitsN >= 5 {
			bitsN -= 5
			data = append(data, byte(acc>>bitsN)&31)
		}
	}
	if bitsN > 0 {
		data = append(data, byte(acc<<(5-bitsN))&31)
	}
	values := append(bech32HRPExpand(hrp), data...)
	mod := bech32Polymod(append(values, 0, 0, 0, 0, 0, 0)) ^ bech32Const
	var sb strings.Builder
	sb.WriteString(hrp + "1")
	for _, d := range data {
		sb.WriteByte(bech32Charset[d])
	}
	for i := 0; i < 6; i++ {
		sb.WriteByte(bech32Charset[(mod>>(5*(5-i)))&31])
	}
	return sb.String()
}

// bech32Valid checks a bech32 or bech32m string (one case only, valid
// checksum) and returns its human-readable part in lower case.
func bech32Valid(a string) (string, bool) {
	if len(a) < 8 || len(a) > 90 || (a != strings.ToLower(a) && a != strings.ToUpper(a)) {
		return "", false
	}
	a = strings.ToLower(a)
	sep := strings.LastIndexByte(a, '1')
	if sep < 1 || sep+7 > len(a) {
		return "", false
	}
	hrp := a[:sep]
	values := bech32HRPExpand(hrp)
	for i := sep + 1; i < len(a); i++ {
		d := strings.IndexByte(bech32Charset, a[i])
		if d < 0 {
			return "", false
		}
		values = append(values, byte(d))
	}
	switch bech32Polymod(values) {
	case bech32Const, bech32mConst:
		return hrp, true
	}
	return "", false
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func base58(b []byte) string {
	n := new(big.Int).SetBytes(b)
	radix, mod := big.NewInt(58), new(big.Int)
	var out []byte
	for n.Sign() > 0 {
		n.DivMod(n, radix, mod)
		out = append(out, base58Alphabet[mod.Int64()])
	}
	for i := 0; i < len(b) && b[i] == 0; i++ {
		out = append(out, '1')
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

func unbase58(s string) ([]byte, bool) {
	if s == "" || len(s) > MaxLength {
		return nil, false
	}
	n, radix := new(big.Int), big.NewInt(58)
	zeros := 0
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(base58Alphabet, s[i])
		if d < 0 {
			return nil, false
		}
		if d == 0 && i == zeros {
			zeros++
		}
		n.Mul(n, radix).Add(n, big.NewInt(int64(d)))
	}
	return append(make([]byte, zeros), n.Bytes()...), true
}

// base58CheckValid checks the 4-byte double-SHA-256 checksum of b.
func base58CheckValid(b []byte) bool {
	if len(b) < 5 {
		return false
	}
	h := sha256.Sum256(b[:len(b)-4])
	h = sha256.Sum256(h[:])
	return string(h[:4]) == string(b[len(b)-4:])
}

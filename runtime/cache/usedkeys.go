package cache

import (
	"crypto/sha256"
	"encoding/hex"
)

// usedKeys is the set of keys a run used, kept small: a million replayed
// tests held 120 MB as a map of hex strings. A key (64 hex digits) is
// kept as its 32 bytes, appended to fixed-size chunks (no pointers for
// the GC to scan, no doubling copy as it grows); a repeat is appended
// again (the memo in front of the cache makes them rare) and removed
// when the set is read. Anything not a key's hex is kept as it is.
type usedKeys struct {
	chunks [][]rawKey
	odd    map[string]bool
}

type rawKey [sha256.Size]byte

// usedChunk is how many keys a chunk holds (32 KiB).
const usedChunk = 1024

func (u *usedKeys) add(key string) {
	k, ok := rawOf(key)
	if !ok {
		if u.odd == nil {
			u.odd = map[string]bool{}
		}
		u.odd[key] = true
		return
	}
	n := len(u.chunks)
	if n == 0 || len(u.chunks[n-1]) == usedChunk {
		u.chunks = append(u.chunks, make([]rawKey, 0, usedChunk))
		n++
	}
	last := &u.chunks[n-1]
	if l := len(*last); l > 0 && (*last)[l-1] == k {
		return // the same key again at once (a retried or repeated call)
	}
	*last = append(*last, k)
}

// rawOf decodes a key of 64 lowercase hex digits.
func rawOf(key string) (k rawKey, ok bool) {
	if len(key) != 2*len(k) {
		return k, false
	}
	bad := byte(0)
	for i := range k {
		hi, lo := unhex[key[2*i]], unhex[key[2*i+1]]
		bad |= hi | lo
		k[i] = hi<<4 | lo&0xf
	}
	return k, bad&0x10 == 0
}

// unhex maps a lowercase hex digit to its value, anything else to 0x10.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x10
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
	}
	return t
}()

// set returns the keys as a map of hex keys.
func (u *usedKeys) set() map[string]bool {
	n := len(u.odd)
	for _, c := range u.chunks {
		n += len(c)
	}
	out := make(map[string]bool, n)
	var buf [2 * sha256.Size]byte
	for _, c := range u.chunks {
		for i := range c {
			hex.Encode(buf[:], c[i][:])
			out[string(buf[:])] = true
		}
	}
	for k := range u.odd {
		out[k] = true
	}
	return out
}

package handlebars

import (
	"fmt"
	"reflect"
	"unicode"
	"unicode/utf8"
)

// Object is a JSON or YAML object with its keys in document order. Go maps
// iterate in random order, so {{#each}} over a map[string]any gave a
// different prompt (and cache key) from run to run; the SDK walks objects
// in their key order, as JavaScript and Python do.
type Object struct {
	keys []string
	vals map[string]any
}

// NewObject returns an empty Object with room for n keys.
func NewObject(n int) *Object {
	return &Object{keys: make([]string, 0, n), vals: make(map[string]any, n)}
}

// Set sets k to v; a key set again keeps its first position.
func (o *Object) Set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

// Get returns the value of k.
func (o *Object) Get(k string) (any, bool) {
	v, ok := o.vals[k]
	return v, ok
}

// Keys are the keys in order. Callers must not modify the slice.
func (o *Object) Keys() []string { return o.keys }

// Len is the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// String prints the object as raymond printed a map (fmt's %s of the map,
// keys sorted), so {{obj}} renders as before.
func (o Object) String() string { return fmt.Sprintf("%s", o.vals) }

// objectOf returns the Object held by v, if any. raymond dereferences
// pointers as it walks a path, so v may hold the struct itself.
func objectOf(v reflect.Value) (*Object, bool) {
	for v.IsValid() && v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, false
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return nil, false
	}
	switch v.Type() {
	case objectType:
		if v.IsNil() {
			return nil, false
		}
		return v.Interface().(*Object), true
	case objectType.Elem():
		if v.CanAddr() {
			return v.Addr().Interface().(*Object), true
		}
		o := v.Interface().(Object) // shares keys and vals, which are read-only here
		return &o, true
	}
	return nil, false
}

var objectType = reflect.TypeOf((*Object)(nil))

// objectField looks k up in o as a map lookup would: a key present with a
// null value is resolved (interface-kind nil), an absent key is not.
func objectField(o *Object, k string) reflect.Value {
	v, ok := o.vals[k]
	if !ok {
		return zero
	}
	return reflect.ValueOf(&v).Elem()
}

// lengthOf is JavaScript's .length of a list or a string (UTF-16 code
// units, as Handlebars.js counts).
func lengthOf(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.Array, reflect.Slice:
		return reflect.ValueOf(v.Len()), true
	case reflect.String:
		s := v.String()
		n := 0
		for len(s) > 0 {
			r, size := utf8.DecodeRuneInString(s)
			s = s[size:]
			if r > 0xFFFF {
				n += 2
			} else {
				n++
			}
		}
		return reflect.ValueOf(n), true
	}
	return zero, false
}

// title upper-cases the first letter, as raymond's use of the deprecated
// strings.Title did for the one-word field names it maps (firstName =>
// FirstName).
func title(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

// Package shout upper-cases text; vendored as tools like godep and glide did.
package shout

import "strings"

// Loud upper-cases s.
func Loud(s string) string { return strings.ToUpper(s) }

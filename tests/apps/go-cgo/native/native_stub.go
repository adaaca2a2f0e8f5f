//go:build !cgo

package native

// Sum is the stub a build without cgo gets: it compiles, and fails only when the program runs.
func Sum(a, b int) string {
	return "stub: built without cgo, this package needs cgo to work"
}

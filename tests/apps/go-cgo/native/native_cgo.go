//go:build cgo

package native

/*
static int add(int a, int b) { return a + b; }
*/
import "C"

import "fmt"

// Sum adds in C.
func Sum(a, b int) string {
	return fmt.Sprintf("sum from C: %d", int(C.add(C.int(a), C.int(b))))
}

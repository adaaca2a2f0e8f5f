// Prints the Go version it was built with; `for range 3` needs Go 1.22, so an older Go cannot build it.
package main

import (
	"fmt"
	"runtime"
)

func main() {
	n := 0
	for range 3 {
		n++
	}
	fmt.Println(runtime.Version(), n)
}

// The service of a Go workspace: go.work at the root, this module and a library module beside it, no go.mod at the root.
package main

import (
	"fmt"

	"example.com/lib/greet"
)

func main() {
	fmt.Println(greet.Hello("workspace"))
}

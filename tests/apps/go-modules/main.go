// A program with one module dependency and no vendor/: its build needs a module proxy.
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() {
	fmt.Println("id length", len(uuid.NewString()))
}

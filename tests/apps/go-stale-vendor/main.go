// A program whose vendor/ was made for an older go.mod: vendor/modules.txt names another version.
package main

import (
	"fmt"

	"github.com/google/uuid"
)

func main() {
	fmt.Println("id length", len(uuid.NewString()))
}

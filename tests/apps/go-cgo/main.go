// A program whose package needs cgo and has a pure-Go stub otherwise, as database drivers like SQLite's do.
package main

import (
	"fmt"

	"example.com/cgosum/native"
)

func main() {
	fmt.Println(native.Sum(2, 3))
}

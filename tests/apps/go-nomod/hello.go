// A main package with no go.mod, as Go programs were written before modules.
package main

import "fmt"

func main() { fmt.Println("hello without a module") }

// Regenerates greeting.txt: `go run gen.go`; never part of a build.

//go:build ignore

package main

import "os"

func main() {
	os.WriteFile("business/greeting/greeting.txt", []byte("hello from greeter\n"), 0o644)
}

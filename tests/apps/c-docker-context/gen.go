// A code generator the repo's developers run; the image is only the C program (see .dockerignore).
package main

import "fmt"

func main() { fmt.Println("generated nothing") }

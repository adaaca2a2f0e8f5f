// A repo from before Go modules: no go.mod, its own package imported by its full import path, a dependency in vendor/.
package main

import (
	"fmt"

	"example.com/team/greeter/greeting"
	"example.com/vendored/shout"
)

func main() {
	fmt.Println(shout.Loud(greeting.Text()))
}

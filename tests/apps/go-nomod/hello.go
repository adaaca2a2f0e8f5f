// A main package with no go.mod, as Go programs were written before modules; it also looks up
// localhost, which Go's pure resolver finds only in /etc/hosts.
package main

import (
	"fmt"
	"net"
)

func main() {
	fmt.Println("hello without a module")
	addrs, err := net.LookupHost("localhost")
	fmt.Println("localhost:", addrs, err)
}

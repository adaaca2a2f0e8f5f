// Package greeting says hello.
package greeting

// Text is the greeting.
func Text() string { return "hello from a gopath-era repo" }

// Package greet is the workspace's library module.
package greet

// Hello greets name.
func Hello(name string) string { return "hello from the " + name }

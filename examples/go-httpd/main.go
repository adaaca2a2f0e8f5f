package main

import (
	"fmt"
	"log"
	"net/http"
)

func main() {
	fmt.Println("http daemon start")
	fmt.Println("  -> listen on port:8080")
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go-httpd\n")
	})
	log.Fatal(http.ListenAndServe(":8080", nil))
}

// The one service of the module, under api/services/ as in larger service templates; it listens on $PORT.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"

	"example.com/services/business/greeting"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		log.Fatal("PORT is not set")
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s on port %s\n", greeting.Text(), port)
	})
	log.Fatal(http.ListenAndServe(":"+port, nil))
}

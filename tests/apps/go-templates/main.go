// A web app that renders templates/ from its working directory at run time, on $PORT.
package main

import (
	"html/template"
	"log"
	"net/http"
	"os"
)

func main() {
	page := template.Must(template.ParseFiles("templates/index.html"))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		page.Execute(w, map[string]string{"Name": "templates"})
	})
	log.Fatal(http.ListenAndServe(":"+os.Getenv("PORT"), nil))
}

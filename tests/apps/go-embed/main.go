// A web app that embeds static/ with embed.FS and reads templates/ from disk at run time.
package main

import (
	"embed"
	"html/template"
	"log"
	"net/http"
	"os"
)

var (
	//go:embed static
	static embed.FS
)

func main() {
	page := template.Must(template.ParseFiles("templates/page.tmpl"))
	http.Handle("/static/", http.FileServer(http.FS(static)))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { page.Execute(w, "template") })
	log.Fatal(http.ListenAndServe(":"+os.Getenv("PORT"), nil))
}

# The seed's Go Dockerfile: a Debian builder installs golang-go, the static binary goes onto scratch.
FROM 127.0.0.1/bench-base/debian:bookworm AS build
RUN apt-get update && apt-get install -y golang-go
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /httpd .

FROM scratch
COPY --from=build /httpd /httpd
EXPOSE 8080
ENTRYPOINT ["/httpd"]

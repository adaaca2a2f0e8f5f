# go-httpd.Dockerfile with the builder stage on s2i's builder stack image, which already has golang-go.
FROM 127.0.0.1/bench-base/s2i-builder:stack AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /httpd .

FROM scratch
COPY --from=build /httpd /httpd
EXPOSE 8080
ENTRYPOINT ["/httpd"]

# c-hello.Dockerfile with the builder stage on s2i's builder stack image, which already has gcc and make.
FROM 127.0.0.1/bench-base/s2i-builder:stack AS build
WORKDIR /src
COPY . .
RUN make

FROM scratch
COPY --from=build /src/hello /hello
ENTRYPOINT ["/hello"]

# The seed's C Dockerfile: a Debian builder installs gcc and make, the static binary goes onto scratch.
FROM 127.0.0.1/bench-base/debian:bookworm AS build
RUN apt-get update && apt-get install -y gcc make
WORKDIR /src
COPY . .
RUN make

FROM scratch
COPY --from=build /src/hello /hello
ENTRYPOINT ["/hello"]

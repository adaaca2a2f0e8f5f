# flask-hello.Dockerfile with a builder stage on s2i's builder stack image: pip installs into a venv there,
# and the venv and the app go onto the same python base as the seed's. (The default stack's builder has
# Python 3.13, this base 3.11: the image would not run, but the bench times the build, not a run.)
FROM 127.0.0.1/bench-base/s2i-builder:stack AS build
ARG PIP_CERT
COPY requirements.txt /app/
RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -r /app/requirements.txt

FROM 127.0.0.1/bench-base/python:3-bookworm
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY . .
EXPOSE 9080
CMD ["/opt/venv/bin/python3", "app.py"]

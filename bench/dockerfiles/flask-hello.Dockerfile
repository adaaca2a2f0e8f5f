# The seed's Flask Dockerfile: one stage on a python base, pip install, then the app.
FROM 127.0.0.1/bench-base/python:3-bookworm
# pip goes through a TLS-intercepting proxy: the path of its CA bundle (bind-mounted by the bench) comes in as an ARG
ARG PIP_CERT
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
EXPOSE 9080
CMD ["python3", "app.py"]

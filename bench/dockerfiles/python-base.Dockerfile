# Stands in for the seed's python:3 base (Docker Hub is unreachable here): Debian bookworm minbase + python3, pip, venv.
FROM 127.0.0.1/bench-base/debian:bookworm
RUN apt-get update && apt-get install -y python3 python3-pip python3-venv && rm -rf /var/lib/apt/lists/*
# python:3 lets pip install into the system site-packages; Debian's python3 refuses (PEP 668) unless told
ENV PIP_BREAK_SYSTEM_PACKAGES=1
CMD ["python3"]

"""Software bills of materials: what an image holds (Debian packages, Python distributions, Go modules), as SPDX or CycloneDX."""

#!/bin/sh
# the project's own bootstrap: make version.m4, then the usual autotools run
set -e
echo "m4_define([VERSION_NUMBER], [2.4.1])" > version.m4
autoreconf -fi

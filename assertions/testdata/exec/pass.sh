#!/bin/sh
# Reads the input and passes.
cat >/dev/null
echo "all good"
exit 0

#!/bin/sh
# Saves stdin in the working directory for the test to read.
cat > stdin.json

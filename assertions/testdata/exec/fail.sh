#!/bin/sh
# Fails with a reason on stderr.
cat >/dev/null
echo "greeting missing" >&2
echo "second line" >&2
exit 3

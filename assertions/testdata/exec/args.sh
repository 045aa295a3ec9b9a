#!/bin/sh
# Prints its argument count and arguments, then fails.
echo "$#|$1|$2" >&2
exit 1

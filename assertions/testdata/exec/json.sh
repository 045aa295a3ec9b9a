#!/bin/sh
# A JSON verdict rules over the exit code.
cat >/dev/null
echo "{\"pass\": true, \"score\": 0.8, \"reason\": \"tone is friendly\"}"
exit 1

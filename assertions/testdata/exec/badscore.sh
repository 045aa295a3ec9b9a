#!/bin/sh
cat >/dev/null
echo "{\"pass\": true, \"score\": 7}"

#!/bin/sh
# Starts a child and hangs: a timeout must kill both.
sleep 30 &
echo $! > child.pid
sleep 30

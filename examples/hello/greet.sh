#!/bin/sh
# Prints the greeting written at build time, then the name given as argument.
cat /app/greeting.txt
echo "to ${1:-nobody}, from $(id -un)"

#!/bin/sh
# Copies the simulator's build module (../simbuild, a separate Go module) into
# files/ under names that neither embed nor the go command treat as a module
# or a package. Run by 'go generate'; files_test.go fails when they differ.
set -eu
cd "$(dirname "$0")"
src=../simbuild
cp "$src/go.mod" files/go.mod.txt
cp "$src/go.sum" files/go.sum.txt
cp "$src/build.sh" files/build.sh.txt
cp "$src/tools.go" files/tools.go.txt
cp "$src/etcd/main.go" files/etcd/main.go.txt

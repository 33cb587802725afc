// Command etcd is a thin wrapper around go.etcd.io/etcd/server/v3/etcdmain so
// that the etcd server can be built from the Go module proxy (no GitHub
// release download needed). It behaves exactly like the upstream etcd binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}

// Command k8slab is an interactive terminal course on Kubernetes.
package main

import (
	"errors"
	"fmt"
	"os"
)

// selfExe is this program, which 'cluster up' runs again as the simulated
// cluster's detached supervisor. Only main sets it: tests that run commands
// in-process start no supervisor unless they set it to a built k8slab.
var selfExe string

func main() {
	selfExe, _ = os.Executable()
	err := newRootCmd(os.Stdin, os.Stdout, os.Stderr).Execute()
	if err == nil {
		return
	}
	var ec exitCode
	if errors.As(err, &ec) {
		os.Exit(int(ec))
	}
	fmt.Fprintln(os.Stderr, "k8slab:", err)
	os.Exit(2)
}

// exitCode ends the process with a status and no further message: the
// command already said what went wrong.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

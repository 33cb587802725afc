// Package enginetest sets up, for one test, a machine on which no container
// engine answers, whatever engines really run here: tests of what k8slab
// says and does without an engine must not depend on the machine they run
// on (CI runs them where Podman is installed for the kind tests).
package enginetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// engineEnv is clusterctl.EngineEnv; this package cannot import
// clusterctl, whose own tests use it.
const engineEnv = "KIND_EXPERIMENTAL_PROVIDER"

// dockerDown answers as Docker 28's CLI does when its engine is not
// running (captured on the build machine; clusterctl/testdata/kind has the
// same text).
const dockerDown = `#!/bin/sh
if [ "$1" = -v ]; then echo 'Docker version 28.2.2, build e6534b4'; exit 0; fi
echo "Cannot connect to the Docker daemon at $DOCKER_HOST. Is the docker daemon running?" >&2
exit 1
`

// DockerDown limits k8slab (and kind) to Docker, through the variable kind
// reads to choose its engine, and points Docker's CLI at a socket nothing
// listens on: Docker is installed but its engine is down. The real docker
// CLI is used where one is installed, so its own words are what k8slab has
// to explain; elsewhere a stand-in prints the same message.
func DockerDown(t testing.TB) {
	t.Helper()
	t.Setenv(engineEnv, "docker")
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	t.Setenv("DOCKER_CONTEXT", "")
	if _, err := exec.LookPath("docker"); err == nil {
		return
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "docker"), []byte(dockerDown), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

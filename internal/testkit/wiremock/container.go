package wiremock

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// ryukOnce guards the one-time check of the reaper setting for the whole test process.
var (
	ryukOnce sync.Once
	ryukErr  error
)

// ensureRyukDisabled makes TESTCONTAINERS_RYUK_DISABLED=true effective. The reaper image cannot be
// pulled on the project's machines, and every container here is terminated by its test's cleanup.
// t.Setenv is not an option (it panics in parallel tests and would be undone after the first test),
// so an unset variable is set once for the process with os.Setenv, which is safe for concurrent use;
// the Makefile and .ci/run export it as well. testcontainers-go reads its configuration once per
// process, so the effective value is checked afterwards: code that used testcontainers before this
// harness, or a ~/.testcontainers.properties saying otherwise, makes Start fail with the fix.
func ensureRyukDisabled() error {
	ryukOnce.Do(func() {
		v, set := os.LookupEnv(EnvRyukDisabled)
		if !set {
			if err := os.Setenv(EnvRyukDisabled, "true"); err != nil {
				ryukErr = fmt.Errorf("set %s: %w", EnvRyukDisabled, err)
				return
			}
		} else if b, err := strconv.ParseBool(v); err != nil || !b {
			ryukErr = fmt.Errorf("%s=%q: it must be true (the reaper image cannot be pulled here; tests terminate their own containers)", EnvRyukDisabled, v)
			return
		}
		if !testcontainers.ReadConfig().Config.RyukDisabled {
			ryukErr = fmt.Errorf("testcontainers-go runs with the reaper enabled (configuration read before this harness set %s, or ryuk.disabled=false in ~/.testcontainers.properties): export %s=true before running the tests", EnvRyukDisabled, EnvRyukDisabled)
		}
	})
	return ryukErr
}

// containerLauncher checks, once per Start, that Docker answers and that the image exists locally,
// so that a missing engine or image fails with instructions instead of a pull attempt that cannot
// succeed on a machine without a registry.
func containerLauncher(t testing.TB) (launcher, error) {
	if err := ensureRyukDisabled(); err != nil {
		return nil, err
	}
	image := os.Getenv(EnvImage)
	if image == "" {
		image = DefaultImage
	}
	if err := checkDocker(t, image); err != nil {
		return nil, err
	}
	return func(ctx context.Context, t testing.TB, root string, port int) (instance, error) {
		return startContainer(ctx, t, image, root, port)
	}, nil
}

const noDockerHint = "start the engine with scripts/docker-up.sh (as root), or run WireMock as a local java process with " + EnvMode + "=jar"

func checkDocker(t testing.TB, image string) (err error) {
	// NewDockerProvider panics on some broken setups (testcontainers' own SkipIfProviderIsNotHealthy
	// recovers the same way); a panic here is just "Docker is unavailable".
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("docker is not available (%v): %s", r, noDockerHint)
		}
	}()
	provider, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.TestLogger(t)))
	if err != nil {
		return fmt.Errorf("docker is not available (%v): %s", err, noDockerHint)
	}
	defer provider.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := provider.Health(ctx); err != nil {
		return fmt.Errorf("docker is not available (%v): %s", err, noDockerHint)
	}
	if _, err := provider.Client().ImageInspect(ctx, image); err != nil {
		if image == OfficialImage {
			return nil // a machine with a registry: let testcontainers pull it
		}
		return fmt.Errorf("image %s is not available locally (%v): build it with scripts/wiremock-image.sh and export %s with the name it prints", image, err, EnvImage)
	}
	return nil
}

// startContainer runs the image with host networking: WireMock binds 127.0.0.1:port on the host
// itself, so tests and the service under test reach it without port mapping and no traffic leaves
// loopback. The root dir is copied into the container (not bind-mounted) so the server owns a copy of
// its own and a remote or sibling Docker engine works the same way.
func startContainer(ctx context.Context, t testing.TB, image, root string, port int) (instance, error) {
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithLogger(tclog.TestLogger(t)),
		testcontainers.WithCmd(serverArgs(port, containerRootDir)...),
		testcontainers.WithEnv(map[string]string{"JAVA_TOOL_OPTIONS": strings.Join(jvmOptions, " ")}),
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.NetworkMode = "host"
		}),
		// The reaper is off, so a test binary killed before its cleanups leaves its container running.
		// The owner's pid lets a later run remove exactly those (the process is gone) and never the
		// containers of tests still running on a shared machine.
		testcontainers.WithLabels(map[string]string{labelKey: labelValue, labelPID: strconv.Itoa(os.Getpid())}),
		// testcontainers copies a directory into the parent of ContainerFilePath under its own base
		// name, so each subdirectory lands at /home/wiremock/<name>. 0o755 keeps directories
		// traversable whatever uid the image runs as.
		testcontainers.WithFiles(
			testcontainers.ContainerFile{HostFilePath: filepath.Join(root, "mappings"), ContainerFilePath: containerRootDir + "/mappings", FileMode: 0o755},
			testcontainers.ContainerFile{HostFilePath: filepath.Join(root, "__files"), ContainerFilePath: containerRootDir + "/__files", FileMode: 0o755},
		),
	)
	var inst instance
	if ctr != nil { // Run returns the container even when it fails after creating it
		inst = &containerInstance{ctr: ctr}
	}
	if err != nil {
		return inst, fmt.Errorf("start container from %s: %w", image, err)
	}
	return inst, nil
}

type containerInstance struct {
	ctr *testcontainers.DockerContainer
}

func (c *containerInstance) exited(ctx context.Context) (bool, string) {
	st, err := c.ctr.State(ctx)
	if err != nil {
		return false, "" // transient API error: the health deadline still bounds the wait
	}
	if st.Running {
		return false, ""
	}
	return true, fmt.Sprintf("container %s is %s (exit code %d)", shortID(c.ctr.GetContainerID()), st.Status, st.ExitCode)
}

func (c *containerInstance) output(ctx context.Context) string {
	rc, err := c.ctr.Logs(ctx)
	if err != nil {
		return fmt.Sprintf("(no container logs: %v)", err)
	}
	defer rc.Close()
	tb := &tailBuffer{max: outputTailBytes}
	if _, err := io.Copy(tb, rc); err != nil {
		return tb.String() + fmt.Sprintf("\n(reading logs: %v)", err)
	}
	return tb.String()
}

func (c *containerInstance) stop(ctx context.Context) error {
	err := testcontainers.TerminateContainer(c.ctr, testcontainers.StopContext(ctx), testcontainers.StopTimeout(stopTimeout))
	if err != nil && strings.Contains(strings.ToLower(err.Error()), "no such container") {
		return nil // already removed by an earlier stop
	}
	return err
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

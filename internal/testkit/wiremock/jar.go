package wiremock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// jarLauncher resolves java and the jar once per Start and returns a launcher running
// `java -jar wiremock-standalone.jar <serverArgs>` with the root dir copy as its root.
func jarLauncher() (launcher, error) {
	jar, err := jarPath()
	if err != nil {
		return nil, err
	}
	java, err := javaPath()
	if err != nil {
		return nil, err
	}
	return func(_ context.Context, _ testing.TB, root string, port int) (instance, error) {
		return startJar(java, jar, root, port)
	}, nil
}

// jarPath returns $UO_WIREMOCK_JAR or the jar scripts/wiremock-jar.sh installs in the cache
// (${UO_CACHE_DIR:-<user cache>/usersorchestrator}/wiremock-standalone-3.13.2.jar).
func jarPath() (string, error) {
	if p := os.Getenv(EnvJar); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvJar, err)
		}
		return p, nil
	}
	dir := os.Getenv(EnvCacheDir)
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("locate the WireMock jar: no %s and no user cache dir (%v)", EnvJar, err)
		}
		dir = filepath.Join(cache, "usersorchestrator")
	}
	p := filepath.Join(dir, defaultJarName)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("WireMock jar not found at %s (%v): install it with scripts/wiremock-jar.sh or set %s", p, err, EnvJar)
	}
	return p, nil
}

// javaPath prefers $JAVA_HOME/bin/java (the JRE a developer chose) and falls back to PATH.
func javaPath() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("jar mode needs java 11+ (e.g. apt-get install openjdk-17-jre-headless): %w", err)
	}
	return p, nil
}

func startJar(java, jar, root string, port int) (instance, error) {
	out := &tailBuffer{max: outputTailBytes}
	args := append(append(slices.Clone(jvmOptions), "-jar", jar), serverArgs(port, root)...)
	cmd := exec.Command(java, args...)
	cmd.Dir = root
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = childProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s -jar %s: %w", java, jar, err)
	}
	p := &jarInstance{cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

type jarInstance struct {
	cmd     *exec.Cmd
	out     *tailBuffer
	done    chan struct{} // closed when the process has exited and waitErr is set
	waitErr error
}

func (p *jarInstance) exited(context.Context) (bool, string) {
	select {
	case <-p.done:
		return true, fmt.Sprintf("java exited: %v", p.waitErr)
	default:
		return false, ""
	}
}

func (p *jarInstance) output(context.Context) string { return p.out.String() }

// stop interrupts the JVM (WireMock's shutdown hook closes Jetty) and kills it if it has not exited
// within stopTimeout.
func (p *jarInstance) stop(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil && !errors.Is(err, os.ErrProcessDone) {
		// No interrupt on this platform: go straight to the kill below.
		_ = p.cmd.Process.Kill()
	}
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill java pid %d: %w", p.cmd.Process.Pid, err)
	}
	<-p.done
	return nil
}

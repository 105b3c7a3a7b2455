package wiremock

import "syscall"

// childProcAttr puts the JVM in its own process group (a Ctrl-C meant for `go test` is handled by the
// test's cleanup, not by a half-stopped server) and asks the kernel to kill it when the test process
// dies without running its cleanups (a test timeout panics the binary), so no orphan keeps a port.
// Pdeathsig follows the OS thread that started the child; Go ends threads only when a goroutine exits
// while locked to one, which test code starting servers does not do.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

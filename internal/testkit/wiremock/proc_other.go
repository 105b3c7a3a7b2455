//go:build !linux

package wiremock

import "syscall"

// childProcAttr has no portable equivalent of Linux's Pdeathsig; the test cleanup stops the JVM.
func childProcAttr() *syscall.SysProcAttr { return nil }

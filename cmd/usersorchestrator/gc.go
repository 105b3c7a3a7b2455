package main

import (
	"log/slog"
	"runtime/debug"
	"strconv"

	"usersorchestrator/internal/password"
)

// Why the service sets its own collector: Go's default (GOGC=100, no memory limit) collects
// whenever the heap has doubled. This service's live heap is small (the contract, a bounded
// registration cache, bounded queues) while every request allocates ~14 KiB, so under load the
// default collects dozens of times a second: about a sixth of the CPU of a GET by id in
// `make bench`. Collecting at 5x the live heap (GOGC=400) removes most of that; a soft memory
// limit sized for the service's own peak, the password hashes in flight, keeps memory where the
// default would have it (make bench's "server peak RSS"). GOGC and GOMEMLIMIT set by an operator
// win, each on its own.
const serveGCPercent = 400

// gcSettings is what serve sets: the GC percentage and the soft memory limit in bytes, each -1
// when the environment already chose it. hashSlots is how many password hashes may run at once.
func gcSettings(getenv func(string) string, hashSlots int) (percent int, limit int64) {
	percent, limit = -1, -1
	if getenv("GOGC") == "" {
		percent = serveGCPercent
	}
	if getenv("GOMEMLIMIT") == "" {
		// Each hash in flight holds Params.Memory; room for twice that (what is freed waits for
		// the next cycle), plus 64 MiB for everything else.
		perHash := int64(password.DefaultParams().Memory) << 10
		limit = 64<<20 + 2*int64(hashSlots)*perHash
	}
	return percent, limit
}

// tuneGC applies gcSettings and logs the collector's settings.
func tuneGC(log *slog.Logger, getenv func(string) string, hashSlots int) {
	percent, limit := gcSettings(getenv, hashSlots)
	gogc := getenv("GOGC")
	if percent >= 0 {
		debug.SetGCPercent(percent)
		gogc = strconv.Itoa(percent) + " (service default)"
	}
	memLimit := getenv("GOMEMLIMIT")
	if limit >= 0 {
		debug.SetMemoryLimit(limit)
		memLimit = strconv.FormatInt(limit>>20, 10) + "MiB (service default)"
	}
	log.Info("garbage collector", "gogc", gogc, "gomemlimit", memLimit)
}

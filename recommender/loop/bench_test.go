package loop_test

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCycle10kTargets is one recommendation cycle over 10,000 HPAs in
// 100 namespaces, each with a Pods metric and an Object metric, three pods
// per target, through adapter/inprocess and the adapter's real provider over
// a fake Prometheus. Besides ns/op it reports the Prometheus queries per
// cycle, the CPU time per cycle (wall time is unreliable on a machine shared
// with other builds), the heap in use after a cycle and the part of it the
// loop added to the fake cluster's objects.
func BenchmarkCycle10kTargets(b *testing.B) {
	bed := newBed(b, 100, 100, 3)
	ctx := context.Background()
	before := heapInUse()
	bed.loop.Cycle(ctx) // first sight: seeds every history
	bed.queries.Store(0)
	cycles := 0
	cpuStart := cpuTime(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		bed.now = bed.now.Add(15 * time.Second)
		stats := bed.loop.Cycle(ctx)
		if stats.Errors != 0 {
			b.Fatalf("cycle with %d target errors", stats.Errors)
		}
		cycles++
	}
	b.StopTimer()
	b.ReportMetric((cpuTime(b)-cpuStart).Seconds()/float64(cycles), "cpu-s/cycle")
	b.ReportMetric(float64(bed.queries.Load())/float64(cycles), "queries/cycle")
	after := heapInUse()
	b.ReportMetric(float64(after)/(1<<20), "MiB-heap-inuse")
	// What the loop, the provider and the store keep beyond the fake
	// cluster's objects: histories, recommendations, pod views.
	b.ReportMetric((float64(after)-float64(before))/(1<<20), "MiB-heap-loop")
	runtime.KeepAlive(bed)
}

// heapInUse is the heap in use after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

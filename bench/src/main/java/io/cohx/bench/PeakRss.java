package io.cohx.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The peak anonymous resident memory (heap, arenas; not memory-mapped file pages, which belong to
 * the page cache) since the last {@link #takeAnonMiB()}, sampled every 5 ms by a daemon thread
 * started on first use; and the process's all-time peak RSS (VmHWM). -1 where /proc is not there.
 */
final class PeakRss {
    private PeakRss() {}

    private static final AtomicLong PEAK_ANON = new AtomicLong();

    static {
        Thread.ofPlatform().daemon().name("rss-sampler").start(() -> {
            while (true) {
                PEAK_ANON.accumulateAndGet(status("RssAnon:"), Math::max);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** Peak anonymous RSS in MiB since the previous call (then starts a new window). */
    static double takeAnonMiB() {
        return PEAK_ANON.getAndSet(status("RssAnon:")) / 1024.0;
    }

    /** The process's peak RSS so far (VmHWM), in MiB. */
    static double processPeakMiB() {
        return status("VmHWM:") / 1024.0;
    }

    private static long status(String key) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(key)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // not Linux
        }
        return -1;
    }
}

package io.cohx.coh.train;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Clean stop on SIGINT/SIGTERM: the JVM's shutdown hook sets a flag the training loop checks
 * after each step, then waits for the loop to write its final checkpoint, and ends the process
 * with status 0. Without a signal the hook is removed when training ends.
 */
final class StopSignal implements AutoCloseable {
    private volatile boolean requested;
    private volatile boolean signalled;
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    StopSignal() {
        hook = new Thread(() -> {
            signalled = true;
            requested = true;
            try {
                if (finished.await(30, TimeUnit.MINUTES)) {
                    Runtime.getRuntime().halt(0);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "cohx-stop");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    boolean requested() {
        return requested;
    }

    /** Asks the loop to stop after the current step (as a signal would). */
    void request() {
        requested = true;
    }

    /** The loop is done (checkpoint written or failed): let the process end. */
    void finished() {
        finished.countDown();
    }

    @Override
    public void close() {
        finished();
        if (!signalled) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // shutting down already
            }
        }
    }
}

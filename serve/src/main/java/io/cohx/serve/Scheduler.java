package io.cohx.serve;

import io.cohx.models.generate.Scorer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;

/**
 * The one thread that runs programs on the device, and the queue in front of it: HTTP threads
 * {@link #submit} jobs and wait on their futures. Two policies share the queue, the scoring path
 * and the shutdown: {@link ContinuousScheduler} (iteration-level batching, the default) and
 * {@link StaticScheduler} (a batch runs until its longest row is done; kept for comparison).
 */
abstract sealed class Scheduler implements AutoCloseable permits ContinuousScheduler, StaticScheduler {
    protected final Scorer scorer;
    protected final int maxQueue;
    protected final ServeMetrics metrics;
    protected final LinkedList<Job> queue = new LinkedList<>();
    private final Thread worker;
    protected volatile boolean closed;

    /** Starts the device thread, which first runs {@code warmUp} (compiling), then {@link #loop()}. */
    Scheduler(Scorer scorer, int maxQueue, ServeMetrics metrics, Runnable warmUp) {
        this.scorer = scorer;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        this.worker = Thread.ofPlatform().name("cohx-serve-device").daemon().unstarted(() -> {
            try {
                warmUp.run();
            } catch (RuntimeException e) {
                System.err.println("cohx serve: compiling at start-up failed: " + e.getMessage());
            }
            loop();
        });
    }

    /** Subclasses start the thread once they are fully built. */
    protected final void start() {
        worker.start();
    }

    /** Queues a job, or throws {@link Overloaded} when {@code maxQueue} jobs already wait. */
    <J extends Job> J submit(J job) {
        synchronized (queue) {
            if (closed) {
                throw new IllegalStateException("the server is shutting down");
            }
            if (queue.size() >= maxQueue) {
                throw new Overloaded(queue.size());
            }
            queue.add(job);
            metrics.queueDepth(queue.size());
            queue.notifyAll();
        }
        return job;
    }

    /** Jobs waiting (not yet started). */
    int depth() {
        synchronized (queue) {
            return queue.size();
        }
    }

    /** The device loop; returns when the scheduler is closed. */
    protected abstract void loop();

    /**
     * Takes the score jobs at the front of the queue (up to a few batches' worth of rows), scores
     * them in one call and completes them; a failure fails those jobs only.
     */
    protected void runScoreJobs(int maxRows) {
        List<Job.Score> jobs = new ArrayList<>();
        List<Scorer.Row> rows = new ArrayList<>();
        synchronized (queue) {
            Iterator<Job> it = queue.iterator();
            while (it.hasNext() && rows.size() < maxRows) {
                if (it.next() instanceof Job.Score s && (jobs.isEmpty() || rows.size() + s.rows.size() <= maxRows)) {
                    it.remove();
                    jobs.add(s);
                    rows.addAll(s.rows);
                }
            }
            metrics.queueDepth(queue.size());
        }
        try {
            List<Scorer.Scored> scored = scorer.score(rows);
            int at = 0;
            for (Job.Score s : jobs) {
                s.done.complete(scored.subList(at, at + s.rows.size()));
                at += s.rows.size();
            }
            metrics.scored(rows.size());
        } catch (RuntimeException | Error e) {
            jobs.forEach(j -> j.fail(e));
        }
    }

    /**
     * The next generate job in {@code it} that still has a client, or null: score jobs are
     * skipped, cancelled jobs removed from the queue and their futures cancelled. Call while
     * holding the queue's lock.
     */
    protected static Job.Generate nextLiveGenerate(Iterator<Job> it) {
        while (it.hasNext()) {
            if (it.next() instanceof Job.Generate g) {
                if (!g.cancelled.get()) {
                    return g;
                }
                it.remove();
                g.done.cancel(false);
            }
        }
        return null;
    }

    /** Fails everything still queued (the server is shutting down). */
    protected void failQueued(Throwable e) {
        synchronized (queue) {
            queue.forEach(j -> j.fail(e));
            queue.clear();
        }
    }

    /** Lets the device thread finish what it is doing, fails what still waits, and stops the thread. */
    @Override
    public void close() {
        synchronized (queue) {
            closed = true;
            queue.notifyAll();
        }
        try {
            worker.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

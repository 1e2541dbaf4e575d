package io.cohx.serve;

import io.cohx.models.generate.FinishReason;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Scorer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one thread that runs programs on the device, and the queue in front of it. Requests wait
 * as jobs; the worker takes the oldest job and fills a batch with the rows of that job and of the
 * generation jobs behind it (rows carry their own sampling settings, so any two generation rows
 * may share a batch; scoring jobs are merged the same way). Each row's text goes only to its own
 * job's sink and result slot, so outputs are never mixed. A job whose client went away is marked
 * cancelled: its rows stop at the next token and its rows not yet started are dropped.
 */
final class Scheduler implements AutoCloseable {
    private final Generator generator;
    private final Scorer scorer;
    private final int maxQueue;
    private final ServeMetrics metrics;
    private final LinkedList<Job> queue = new LinkedList<>();
    private final Thread worker;
    private volatile boolean closed;

    /** A unit of waiting work. */
    sealed interface Job permits GenerateJob, ScoreJob {}

    /** Rows to generate; {@code sinks} (one per row, may be null) see text as it comes. */
    static final class GenerateJob implements Job {
        final List<Generator.Request> rows;
        final Generator.Result[] results;
        final CompletableFuture<List<Generator.Result>> done = new CompletableFuture<>();
        final AtomicBoolean cancelled = new AtomicBoolean();
        int next;
        int finished;

        GenerateJob(List<Generator.Request> rows) {
            this.rows = List.copyOf(rows);
            this.results = new Generator.Result[rows.size()];
        }
    }

    /** Rows to score. */
    static final class ScoreJob implements Job {
        final List<Scorer.Row> rows;
        final CompletableFuture<List<Scorer.Scored>> done = new CompletableFuture<>();

        ScoreJob(List<Scorer.Row> rows) {
            this.rows = List.copyOf(rows);
        }
    }

    /** Starts the device thread, which first runs {@code warmUp} (compiling), then serves the queue. */
    Scheduler(Generator generator, Scorer scorer, int maxQueue, ServeMetrics metrics, Runnable warmUp) {
        this.generator = generator;
        this.scorer = scorer;
        this.maxQueue = maxQueue;
        this.metrics = metrics;
        this.worker = Thread.ofPlatform().name("cohx-serve-device").daemon().start(() -> {
            try {
                warmUp.run();
            } catch (RuntimeException e) {
                System.err.println("cohx serve: compiling at start-up failed: " + e.getMessage());
            }
            loop();
        });
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

    int depth() {
        synchronized (queue) {
            return queue.size();
        }
    }

    private void loop() {
        while (true) {
            Job head;
            synchronized (queue) {
                while (queue.isEmpty() && !closed) {
                    try {
                        queue.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    fail(new IllegalStateException("the server shut down"));
                    return;
                }
                head = queue.getFirst();
            }
            try {
                if (head instanceof GenerateJob) {
                    runGenerateBatch();
                } else {
                    runScoreBatch();
                }
            } catch (RuntimeException | Error e) {
                // A failed batch fails its jobs only; the worker goes on with the next.
                failStarted(e);
            }
        }
    }

    private final List<Job> running = new ArrayList<>();

    private void runGenerateBatch() {
        List<Generator.Request> rows = new ArrayList<>();
        List<GenerateJob> owners = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        synchronized (queue) {
            Iterator<Job> it = queue.iterator();
            while (it.hasNext() && rows.size() < generator.batchSize()) {
                if (!(it.next() instanceof GenerateJob g)) {
                    continue;
                }
                if (g.cancelled.get()) {
                    it.remove();
                    g.done.cancel(false);
                    continue;
                }
                while (g.next < g.rows.size() && rows.size() < generator.batchSize()) {
                    int slot = g.next++;
                    Generator.Request r = g.rows.get(slot);
                    rows.add(new Generator.Request(r.prompt(), r.maxNewTokens(), r.sampling(), r.stop(),
                            piece -> !g.cancelled.get() && r.sink().accept(piece)));
                    owners.add(g);
                    slots.add(slot);
                }
                if (g.next == g.rows.size()) {
                    it.remove();
                }
                if (!running.contains(g)) {
                    running.add(g);
                }
            }
            metrics.queueDepth(queue.size());
        }
        metrics.batchStarted(rows.size());
        long t0 = System.nanoTime();
        List<Generator.Result> results = generator.generate(rows);
        long tokens = 0;
        for (int i = 0; i < rows.size(); i++) {
            GenerateJob g = owners.get(i);
            Generator.Result r = results.get(i);
            tokens += r.tokens().length;
            if (cancelled(r)) {
                metrics.cancelled();
            }
            g.results[slots.get(i)] = r;
            if (++g.finished == g.rows.size()) {
                running.remove(g);
                g.done.complete(List.of(g.results));
            }
        }
        metrics.generated(tokens, System.nanoTime() - t0);
    }

    private void runScoreBatch() {
        List<ScoreJob> jobs = new ArrayList<>();
        List<Scorer.Row> rows = new ArrayList<>();
        synchronized (queue) {
            Iterator<Job> it = queue.iterator();
            while (it.hasNext() && rows.size() < 4 * generator.batchSize()) {
                if (it.next() instanceof ScoreJob s && (jobs.isEmpty() || rows.size() + s.rows.size() <= 4 * generator.batchSize())) {
                    it.remove();
                    jobs.add(s);
                    rows.addAll(s.rows);
                }
            }
            running.addAll(jobs);
            metrics.queueDepth(queue.size());
        }
        List<Scorer.Scored> scored = scorer.score(rows);
        int at = 0;
        for (ScoreJob s : jobs) {
            s.done.complete(scored.subList(at, at + s.rows.size()));
            at += s.rows.size();
            running.remove(s);
        }
        metrics.scored(rows.size());
    }

    private void failStarted(Throwable e) {
        for (Job j : running) {
            switch (j) {
                case GenerateJob g -> {
                    g.done.completeExceptionally(e);
                    synchronized (queue) {
                        queue.remove(g);
                    }
                }
                case ScoreJob s -> s.done.completeExceptionally(e);
            }
        }
        running.clear();
    }

    private void fail(Throwable e) {
        for (Job j : queue) {
            switch (j) {
                case GenerateJob g -> g.done.completeExceptionally(e);
                case ScoreJob s -> s.done.completeExceptionally(e);
            }
        }
        queue.clear();
    }

    /** Whether a finished row ended because its client went away. */
    static boolean cancelled(Generator.Result r) {
        return r.finish() == FinishReason.CANCELLED;
    }

    @Override
    public void close() {
        synchronized (queue) {
            closed = true;
            queue.notifyAll();
        }
        try {
            worker.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

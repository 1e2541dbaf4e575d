package io.cohx.serve;

import io.cohx.models.generate.FinishReason;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Scorer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Static batching, as cohx served before continuous batching, kept for comparison
 * ({@code --scheduler static}, {@code bench/run ServeBench}): the worker takes the oldest job and
 * fills a batch with its rows and those of the generation jobs behind it; the batch runs until all
 * its rows are done, and requests arriving meanwhile wait for the next batch. A job whose client
 * went away stops its rows at the next token and its rows not yet started are dropped.
 */
final class StaticScheduler extends Scheduler {
    private final Generator generator;
    private final List<Job> running = new ArrayList<>();

    StaticScheduler(Generator generator, Scorer scorer, int maxQueue, ServeMetrics metrics, Runnable warmUp) {
        super(scorer, maxQueue, metrics, warmUp);
        this.generator = generator;
        start();
    }

    @Override
    protected void loop() {
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
                    failQueued(new IllegalStateException("the server shut down"));
                    return;
                }
                head = queue.getFirst();
            }
            if (head instanceof Job.Score) {
                runScoreJobs(4 * generator.batchSize());
                continue;
            }
            try {
                runGenerateBatch();
            } catch (RuntimeException | Error e) {
                // A failed batch fails its jobs only; the worker goes on with the next.
                for (Job j : running) {
                    j.fail(e);
                    synchronized (queue) {
                        queue.remove(j);
                    }
                }
                running.clear();
            }
        }
    }

    private void runGenerateBatch() {
        List<Generator.Request> rows = new ArrayList<>();
        List<Job.Generate> owners = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        synchronized (queue) {
            Iterator<Job> it = queue.iterator();
            Job.Generate next;
            while (rows.size() < generator.batchSize() && (next = nextLiveGenerate(it)) != null) {
                Job.Generate g = next;
                while (g.next < g.rows.size() && rows.size() < generator.batchSize()) {
                    int slot = g.next++;
                    Generator.Request r = g.rows.get(slot);
                    rows.add(r.withSink((text, token) -> !g.cancelled.get() && r.sink().accept(text, token)));
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
            Job.Generate g = owners.get(i);
            Generator.Result r = results.get(i);
            tokens += r.tokens().length;
            if (r.finish() == FinishReason.CANCELLED) {
                metrics.cancelled();
            }
            g.finish(slots.get(i), r);
            if (g.finished == g.rows.size()) {
                running.remove(g);
            }
        }
        metrics.generated(tokens, System.nanoTime() - t0);
    }
}

package io.cohx.serve;

import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Scorer;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** A unit of work waiting for the device: rows to generate or rows to score, completed by the {@link Scheduler}. */
sealed interface Job permits Job.Generate, Job.Score {

    /** Rows to generate; each row's sink sees its output as it comes. */
    final class Generate implements Job {
        final List<Generator.Request> rows;
        final Generator.Result[] results;
        final CompletableFuture<List<Generator.Result>> done = new CompletableFuture<>();
        /** Set when the client went away: the job's rows stop at the next step. */
        final AtomicBoolean cancelled = new AtomicBoolean();
        /** Rows handed to the device so far, and rows finished (device thread only). */
        int next;
        int finished;

        Generate(List<Generator.Request> rows) {
            this.rows = List.copyOf(rows);
            this.results = new Generator.Result[rows.size()];
        }

        /** Records row {@code i}'s result; completes the job when it was the last. */
        void finish(int i, Generator.Result r) {
            results[i] = r;
            if (++finished == rows.size()) {
                done.complete(List.of(results));
            }
        }
    }

    /** Rows to score. */
    final class Score implements Job {
        final List<Scorer.Row> rows;
        final CompletableFuture<List<Scorer.Scored>> done = new CompletableFuture<>();

        Score(List<Scorer.Row> rows) {
            this.rows = List.copyOf(rows);
        }
    }

    /** Fails the job's future (a batch that threw, or a server shutting down). */
    default void fail(Throwable e) {
        switch (this) {
            case Generate g -> g.done.completeExceptionally(e);
            case Score s -> s.done.completeExceptionally(e);
        }
    }
}

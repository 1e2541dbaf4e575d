package io.cohx.serve;

import io.cohx.models.generate.FinishReason;
import io.cohx.models.generate.Generation;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Scorer;
import io.cohx.models.generate.SlotDecoder;
import io.cohx.models.generate.Token;
import io.cohx.models.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;

/**
 * Continuous (iteration-level) batching over the fixed slots of a {@link SlotDecoder}. Each
 * iteration of the device loop:
 * <ol>
 *   <li>runs any waiting scoring jobs (they are short, and must not wait behind long generations);</li>
 *   <li>admits waiting rows into free slots, oldest request first;</li>
 *   <li>prefills chunks (up to {@code chunk} prompt tokens each) of the rows still taking in their
 *       prompts, oldest first, a long prompt one chunk per iteration, while this iteration's
 *       prefill time stays under half a decode step (so a burst of arrivals never stalls the
 *       decoding rows by more than that and one call);
 *       a row whose prompt is complete gets its first token and joins the decode batch;</li>
 *   <li>runs one decode step for every decoding row, each at its own position, with its own
 *       sampling settings and stop conditions;</li>
 *   <li>frees the slot of every row that finished (budget, eos, stop string) or whose client left,
 *       at once, so a waiting row takes it in the next iteration.</li>
 * </ol>
 * A short request therefore never waits for a long one to finish, only for a free slot. Rows keep
 * their results apart (each feeds its own {@link Generation} and sink), and a row's tokens do not
 * depend on what else runs ({@link SlotDecoder}): greedy output equals running it alone.
 * Ideas from vLLM's and Sarathi's schedulers (iteration-level admission, bounded prefill work per
 * step, chunked prefill); the code is ours.
 */
final class ContinuousScheduler extends Scheduler {
    private final SlotDecoder decoder;
    private final Tokenizer tokenizer;
    private final Row[] slots;
    private long admissions;
    /**
     * How much of a decode step's time one iteration may spend on prefill calls while rows are
     * decoding (beyond the first call). A half keeps a decoding row's pace within about 1.5 steps
     * while a burst of new requests is let in a few per step.
     */
    static final double PREFILL_SHARE = 0.5;
    /** Running average of a decode step's time (0 until the first), for the prefill budget. */
    private double decodeNanos;

    /** A row in a slot: its job, its generation state, and how much of its prompt is in the cache. */
    private static final class Row {
        final Job.Generate job;
        final int index;
        final Generation gen;
        final int[] prompt;
        final int slot;
        final long admitted;
        int prefilled;
        int last;

        Row(Job.Generate job, int index, Generation gen, int slot, long admitted) {
            this.job = job;
            this.index = index;
            this.gen = gen;
            this.prompt = gen.request().prompt();
            this.slot = slot;
            this.admitted = admitted;
        }

        boolean decoding() {
            return prefilled == prompt.length && gen.active();
        }

        boolean wantsAlternatives() {
            return gen.request().alternatives() > 1;
        }
    }

    ContinuousScheduler(SlotDecoder decoder, Tokenizer tokenizer, Scorer scorer, int maxQueue, ServeMetrics metrics, Runnable warmUp) {
        super(scorer, maxQueue, metrics, warmUp);
        this.decoder = decoder;
        this.tokenizer = tokenizer;
        this.slots = new Row[decoder.slots()];
        start();
    }

    @Override
    protected void loop() {
        while (true) {
            boolean scoring;
            synchronized (queue) {
                while (queue.isEmpty() && busy() == 0 && !closed) {
                    try {
                        queue.wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    IllegalStateException down = new IllegalStateException("the server shut down");
                    failQueued(down);
                    failRunning(down);
                    return;
                }
                scoring = queue.stream().anyMatch(j -> j instanceof Job.Score);
            }
            if (scoring) {
                runScoreJobs(4 * decoder.slots());
            }
            try {
                iterate();
            } catch (RuntimeException | Error e) {
                // The cache may be gone with the failed call: every row in it fails; the queue goes on.
                failRunning(e);
            }
        }
    }

    /** One iteration: admit, prefill, decode, free. */
    private void iterate() {
        admit();
        long t0 = System.nanoTime();
        long made = prefill();
        made += decode();
        if (made > 0) {
            metrics.generated(made, System.nanoTime() - t0);
        }
        metrics.activeSlots(busy());
    }

    private int busy() {
        int n = 0;
        for (Row r : slots) {
            n += r == null ? 0 : 1;
        }
        return n;
    }

    /** Fills free slots with waiting rows, oldest job first; drops jobs whose client left. */
    private void admit() {
        synchronized (queue) {
            Iterator<Job> it = queue.iterator();
            int free = slots.length - busy();
            Job.Generate next;
            while (free > 0 && (next = nextLiveGenerate(it)) != null) {
                Job.Generate g = next;
                while (free > 0 && g.next < g.rows.size()) {
                    int index = g.next++;
                    Generator.Request req = g.rows.get(index);
                    if (req.prompt().length >= decoder.maxLength()) {
                        g.done.completeExceptionally(new IllegalArgumentException("a prompt of " + req.prompt().length
                                + " tokens leaves no room in rows of " + decoder.maxLength() + " tokens"));
                        g.next = g.rows.size();
                        break;
                    }
                    Generation gen = newGeneration(g, req);
                    if (!gen.active()) { // nothing to generate (max tokens 0)
                        g.finish(index, gen.result(FinishReason.LENGTH));
                        continue;
                    }
                    int slot = freeSlot();
                    slots[slot] = new Row(g, index, gen, slot, admissions++);
                    decoder.assign(slot, req.sampling());
                    free--;
                }
                if (g.next == g.rows.size()) {
                    it.remove();
                }
            }
            metrics.queueDepth(queue.size());
        }
    }

    private Generation newGeneration(Job.Generate g, Generator.Request req) {
        // The job's cancel flag stops the row at its next token, as a failed write to the client does.
        Generator.Request watched = req.withSink((text, token) -> !g.cancelled.get() && req.sink().accept(text, token));
        int room = decoder.maxLength() - req.prompt().length;
        return new Generation(watched, Math.min(req.maxNewTokens(), room), tokenizer);
    }

    private int freeSlot() {
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] == null) {
                return s;
            }
        }
        throw new IllegalStateException("no free slot");
    }

    /**
     * Prefills the rows still taking in their prompts, oldest first, one chunk (a call) at a time.
     * Each call stalls every decoding row, and on the CPU what a call costs is mostly fixed (the
     * call itself, cutting the slot out of the cache and writing it back, the sampler over the
     * vocabulary) rather than growing with its width. So while rows are decoding, calls go on only
     * while this iteration's prefill time is under {@link #PREFILL_SHARE} of a decode step (its
     * running average): a decoding row's step then takes at most that share plus one call longer
     * than a plain step, whatever arrives; at least one call runs, so prompts always progress.
     * With nobody decoding there is nobody to stall, and calls go on until a chunk's worth of
     * padded width is used. A prompt is always cut at multiples of the chunk, whatever else
     * waits, so its numbers do not depend on the company it keeps. Returns the first tokens made.
     */
    private long prefill() {
        List<Row> waiting = new ArrayList<>();
        boolean decoding = false;
        for (Row r : slots) {
            if (r != null && r.prefilled < r.prompt.length) {
                waiting.add(r);
            }
            decoding |= r != null && r.decoding();
        }
        waiting.sort(Comparator.comparingLong(r -> r.admitted));
        long start = System.nanoTime();
        int used = 0;
        long made = 0;
        for (Row r : waiting) {
            if (r.job.cancelled.get()) {
                r.gen.cancel();
                free(r);
                continue;
            }
            int n = Math.min(r.prompt.length - r.prefilled, decoder.chunk());
            int cost = decoder.width(n);
            if (used > 0 && (decoding ? System.nanoTime() - start >= PREFILL_SHARE * decodeNanos : used + cost > decoder.chunk())) {
                break;
            }
            int to = r.prefilled + n;
            Token t = decoder.prefill(r.slot, r.prompt, r.prefilled, to, r.wantsAlternatives());
            metrics.prefilled(n);
            r.prefilled = to;
            used += cost;
            if (to == r.prompt.length) {
                r.last = t.id();
                r.gen.accept(t);
                made++;
                if (!r.gen.active()) {
                    free(r);
                }
            }
        }
        return made;
    }

    /** One decode step for every decoding row; returns the tokens made. */
    private long decode() {
        int n = slots.length;
        int[] tokens = new int[n];
        int[] columns = new int[n];
        int[] index = new int[n];
        boolean[] active = new boolean[n];
        boolean alternatives = false;
        int rows = 0;
        for (Row r : slots) {
            if (r == null || !r.decoding()) {
                continue;
            }
            if (r.job.cancelled.get()) {
                r.gen.cancel();
                free(r);
                continue;
            }
            active[r.slot] = true;
            tokens[r.slot] = r.last;
            columns[r.slot] = r.prompt.length + r.gen.generated() - 1;
            index[r.slot] = r.gen.generated();
            alternatives |= r.wantsAlternatives();
            rows++;
        }
        if (rows == 0) {
            return 0;
        }
        metrics.batchStarted(rows);
        long t0 = System.nanoTime();
        Token[] next = decoder.decode(tokens, columns, active, index, alternatives);
        long took = System.nanoTime() - t0;
        decodeNanos = decodeNanos == 0 ? took : 0.9 * decodeNanos + 0.1 * took;
        for (int s = 0; s < n; s++) {
            Row r = slots[s];
            if (!active[s] || r == null) {
                continue;
            }
            r.last = next[s].id();
            r.gen.accept(next[s]);
            if (!r.gen.active()) {
                free(r);
            }
        }
        return rows;
    }

    /** Ends a row: its slot is free for the next iteration, its result goes to its job. */
    private void free(Row r) {
        slots[r.slot] = null;
        Generator.Result res = r.gen.result(FinishReason.LENGTH);
        if (res.finish() == FinishReason.CANCELLED) {
            metrics.cancelled();
        }
        r.job.finish(r.index, res);
    }

    private void failRunning(Throwable e) {
        for (int s = 0; s < slots.length; s++) {
            if (slots[s] != null) {
                slots[s].job.fail(e);
                slots[s] = null;
            }
        }
    }
}

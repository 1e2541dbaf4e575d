package io.cohx.serve;

import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.models.CausalLm;
import io.cohx.models.generate.Buckets;
import io.cohx.models.generate.Generator;
import io.cohx.models.generate.Scorer;
import io.cohx.models.generate.ServingLayout;
import io.cohx.models.generate.SlotDecoder;
import io.cohx.models.generate.Token;
import io.cohx.models.tokenizer.Tokenizer;
import io.cohx.pjrt.PjrtClient;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The model behind a server, without HTTP: its parameters on the device (or a mesh), the
 * generation and scoring programs, and the device thread that schedules requests onto them
 * ({@link ContinuousScheduler} or {@link StaticScheduler}, by {@link ServeOptions#batching()}).
 * {@link LmServer} answers HTTP with it; {@code cohx generate} uses it directly. Thread-safe: any
 * thread may submit work and wait for it.
 */
public final class ModelWorker implements AutoCloseable {
    private final ServeOptions options;
    private final Scorer scorer;
    private final AutoCloseable generator;
    private final Runnable warmGenerator;
    private final Scheduler scheduler;
    private final ServeMetrics metrics = new ServeMetrics();
    private final List<DeviceArray> placed = new ArrayList<>();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();

    /**
     * Places the parameters (host or device arrays; the caller's stay the caller's), builds the
     * programs, and starts the device thread, which first compiles what {@code options.preCompile()}
     * names (progress to {@code log}).
     *
     * @param mesh null for one device; else parameters by the model's partition rules (tensor
     *             parallel over mp), KV-cache slots and batches over dp × fsdp
     */
    public ModelWorker(CausalLm model, Tree<?> params, Tokenizer tokenizer, PjrtClient client, Mesh mesh, ServeOptions options,
                       PrintStream log) {
        this.options = options;
        ServeOptions o = options;
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " ids but the model's vocab_size is "
                    + model.config().vocabSize() + "; use the model's own tokenizer");
        }
        if (o.seqLength() > model.config().maxPositions()) {
            throw new IllegalArgumentException("--seq-length " + o.seqLength() + " exceeds the model's " + model.config().maxPositions()
                    + " positions");
        }
        DType dtype = switch (o.dtype()) {
            case "fp32", "f32", "float32" -> DType.F32;
            case "bf16", "bfloat16" -> DType.BF16;
            case "fp16", "f16", "float16" -> DType.F16;
            default -> throw new IllegalArgumentException("--dtype " + o.dtype() + ": use fp32, bf16 or fp16");
        };
        ServeOptions.Batching b = o.batching();
        if (!b.continuous() && mesh != null && mesh.size() > 1) {
            throw new IllegalArgumentException("--scheduler static runs on one device; use --scheduler continuous with --mesh-dim");
        }
        // Placed once (sharded by the partition rules on a mesh) and shared by the generation and scoring programs.
        Tree<Object> onDevice = new ServingLayout(mesh, model, o.batchSize()).place(client, params, placed);
        int minBucket = Math.min(16, o.inputLength());
        this.scorer = new Scorer(model, onDevice, client, o.batchSize(), Buckets.powersOfTwo(minBucket, o.seqLength()), dtype, mesh);
        if (b.continuous()) {
            var slots = new SlotDecoder(model, onDevice, client, o.batchSize(), o.seqLength(),
                    Math.min(b.prefillChunk(), Integer.highestOneBit(o.inputLength())), dtype, b.maxLogprobs(), tokenizer.vocabSize(), mesh);
            this.generator = slots;
            this.warmGenerator = slots::warmUp;
            this.scheduler = new ContinuousScheduler(slots, tokenizer, scorer, o.maxQueue(), metrics, () -> warmUp(log));
        } else {
            var gen = new Generator(model, onDevice, tokenizer, client, o.batchSize(), o.seqLength(),
                    Buckets.powersOfTwo(minBucket, o.inputLength()), dtype, b.maxLogprobs());
            this.generator = gen;
            this.warmGenerator = gen::warmUp;
            this.scheduler = new StaticScheduler(gen, scorer, o.maxQueue(), metrics, () -> warmUp(log));
        }
    }

    private void warmUp(PrintStream log) {
        try {
            long t0 = System.nanoTime();
            if (options.compiles("loglikelihood")) {
                scorer.warmUp();
            }
            if (options.compiles("generate") || options.compiles("greedy_until") || options.compiles("chat")) {
                warmGenerator.run();
            }
            if (!options.preCompile().isEmpty() && !options.preCompile().contains("none")) {
                log.printf("cohx serve: compiled %s in %.1f s%n", String.join(",", options.preCompile()), (System.nanoTime() - t0) / 1e9);
            }
            ready.complete(null);
        } catch (RuntimeException e) {
            ready.completeExceptionally(e);
            throw e;
        }
    }

    /** Blocks until the pre-compiled functions are ready. */
    public void awaitReady() {
        ready.join();
    }

    boolean ready() {
        return ready.isDone() && !ready.isCompletedExceptionally();
    }

    ServeMetrics metrics() {
        return metrics;
    }

    /** Requests waiting for the device. */
    int depth() {
        return scheduler.depth();
    }

    /** Generates {@code rows} as one job and waits for them; each row's sink sees its output on the device thread. */
    public List<Generator.Result> generate(List<Generator.Request> rows) {
        rows.forEach(r -> metrics.prompt(r.prompt().length));
        return await(scheduler.submit(new Job.Generate(rows)).done);
    }

    /** Scores {@code rows} and waits for them. */
    public List<Scorer.Scored> score(List<Scorer.Row> rows) {
        if (rows.isEmpty()) {
            return List.of();
        }
        return await(scheduler.submit(new Job.Score(rows)).done);
    }

    /** Receives a row's streamed output on the request's thread (text and the token, as {@link Generator.Sink}); an IOException means the client left. */
    interface PieceWriter {
        void write(int row, String text, Token token) throws IOException;
    }

    private record Piece(int row, String text, Token token) {}

    private static final Object END = new Object();

    /**
     * Generates {@code rows} as one job, handing output to {@code writer} as it comes, on this
     * thread (the device thread never waits on a client); if the writer fails (the client
     * disconnected) the job is cancelled, which frees its rows at the next step.
     */
    List<Generator.Result> stream(List<Generator.Request> rows, PieceWriter writer) throws IOException {
        rows.forEach(r -> metrics.prompt(r.prompt().length));
        var events = new LinkedBlockingQueue<Object>();
        List<Generator.Request> streamed = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            int row = i;
            streamed.add(rows.get(i).withSink((text, token) -> {
                events.add(new Piece(row, text, token));
                return true;
            }));
        }
        var job = scheduler.submit(new Job.Generate(streamed));
        job.done.whenComplete((v, e) -> events.add(END));
        while (true) {
            Object e;
            try {
                e = events.take();
            } catch (InterruptedException ie) {
                job.cancelled.set(true);
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
            if (e == END) {
                break;
            }
            Piece p = (Piece) e;
            try {
                writer.write(p.row(), p.text(), p.token());
            } catch (IOException io) {
                job.cancelled.set(true);
                throw io;
            }
        }
        return await(job.done);
    }

    private static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the model", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Stops the device thread (failing what still waits) and frees programs, the cache and the parameters placed here. */
    @Override
    public void close() {
        try {
            scheduler.close();
        } finally {
            try {
                generator.close();
            } catch (Exception e) {
                throw new IllegalStateException("freeing the generator failed: " + e.getMessage(), e);
            } finally {
                scorer.close();
                placed.forEach(DeviceArray::close);
            }
        }
    }
}

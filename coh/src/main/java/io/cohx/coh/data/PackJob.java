package io.cohx.coh.data;

import io.cohx.coh.observe.ProgressLine;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code cohx pack}: reads the feedback datasets, turns every record into Chain of Hindsight
 * sequences (docs/COH.md#templates) and writes, for feedback selection {@code T} (the option string):
 * {@code <prefix>_train_T.jsonl} / {@code <prefix>_eval_T.jsonl} per dataset, the combined
 * {@code train_T.jsonl} / {@code eval_T.jsonl} with every dataset appended in order (the
 * reference kept only the last dataset), and {@code train_T_shuffled.jsonl} /
 * {@code eval_T_shuffled.jsonl} shuffled with the recorded seed (the reference's shuffle was
 * unseeded). Nothing is written to the output folder unless the whole run succeeds.
 */
public final class PackJob {

    /**
     * What to pack. {@code inputs} holds local files per dataset; a dataset without any is
     * downloaded through {@code hub} (null: offline, which is then an error).
     */
    public record Request(List<FeedbackDataset> datasets, Map<FeedbackDataset, List<InputFile>> inputs,
                          PackOptions options, Path outputDir, boolean strict, HubDatasets hub) {
    }

    private final Request request;
    private final PrintStream log;
    private final PackReport report = new PackReport();
    /** Threads that parse and pack; a reader thread reads, this one writes. */
    private static final int THREADS = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    /** Batches (about 1 MB of input each) read ahead of the one being written. */
    private static final int IN_FLIGHT = 2 * THREADS + 2;

    private int batchBytes = RecordBatches.BATCH_BYTES;

    public PackJob(Request request, PrintStream log) {
        this.request = request;
        this.log = log;
    }

    private OutputFiles.Tuning tuning = OutputFiles.Tuning.DEFAULT;

    /** Writes the files so (tests: every way of writing must give the same files). */
    PackJob tuning(OutputFiles.Tuning t) {
        tuning = t;
        return this;
    }

    /** Reads input in batches of {@code bytes} (tests: tiny batches must not change any output). */
    PackJob batchBytes(int bytes) {
        batchBytes = bytes;
        return this;
    }

    public static String trainFile(String types) {
        return "train_" + types + ".jsonl";
    }

    public static String evalFile(String types) {
        return "eval_" + types + ".jsonl";
    }

    public PackReport run() {
        String types = request.options().feedback().text();
        var problems = new InputProblems(request.strict(), log);
        var progress = new ProgressLine(log, ProgressLine.isTerminal(log));
        ExecutorService pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "cohx-pack");
            t.setDaemon(true);
            return t;
        });
        try (var out = new OutputFiles(request.outputDir(), tuning)) {
            for (Path leftover : out.leftovers()) {
                log.println("removed " + leftover + ": the staging folder of an interrupted cohx pack");
            }
            for (FeedbackDataset dataset : request.datasets()) {
                List<InputFile> files = request.inputs().get(dataset);
                if (files == null || files.isEmpty()) {
                    if (request.hub() == null) {
                        throw new DataException("no --input for " + dataset.cliName() + " and --offline is set: pass"
                                + " --input " + dataset.cliName() + "=FILE_OR_FOLDER");
                    }
                    files = request.hub().fetch(dataset);
                }
                packDataset(dataset, files, types, out, problems, progress, pool);
            }
            progress.finish();
            for (Split split : Split.values()) {
                String all = combinedFile(split, types);
                if (out.has(all)) {
                    report.file(all, out.lines(all, true).lines());
                    String shuffled = shuffledFile(split, types);
                    var rng = new SeededChoice(request.options().seed() + ":shuffle:" + split.label());
                    report.file(shuffled, out.writeShuffled(all, shuffled, rng, THREADS));
                }
            }
            out.commit();
            for (Path stale : out.removeUnwritten(outputNames(types))) {
                log.println("removed " + stale + ": an earlier run's file that this run does not write"
                        + " (the output folder holds one run's files)");
            }
        } catch (IOException e) {
            throw new DataException("cannot write to " + request.outputDir() + ": " + e.getMessage(), e);
        } finally {
            pool.shutdownNow();
        }
        return report;
    }

    /**
     * Packs the files of one dataset: a reader thread ({@link #read}) reads batches of lines and
     * hands each to the pool to parse, number and pack; this thread writes the finished batches
     * in input order, which is also where problems are reported and records counted, so the
     * files, the log and a {@code --strict} stop are those of a one-record-at-a-time run. A
     * bounded number of batches is in flight, so memory stays flat however large the input.
     */
    private void packDataset(FeedbackDataset dataset, List<InputFile> files, String types, OutputFiles out,
                             InputProblems problems, ProgressLine progress, ExecutorService pool) throws IOException {
        var setup = new PackBatch.Setup(dataset, dataset.packer(request.options()),
                dataset == FeedbackDataset.DIALOGUE ? DialogueFormatter.forOptions(request.options()) : null,
                request.options().seed(), new ConcurrentLinkedQueue<>());
        long problemsBefore = problems.total();
        // About 4.5 output bytes per input byte and sequence per record: aux (dozens of sequences
        // per record) reads smaller batches, so the batches in flight stay within tens of MB.
        int phrases = dataset.phrases().good().size();
        long perRecord = (long) request.options().feedback().inOrder(dataset.typeOrder()).size()
                * (request.options().feedback().aux() ? phrases : 1);
        int bytes = (int) Math.max(1, Math.min(batchBytes, RecordBatches.BATCH_BYTES * 4L / perRecord));
        var queue = new ArrayBlockingQueue<Read>(IN_FLIGHT);
        Thread reader = Thread.ofPlatform().name("cohx-pack-read").daemon()
                .start(() -> read(setup, files, bytes, pool, queue));
        try {
            for (Read next = queue.take(); next != Read.END; next = queue.take()) {
                if (next.failure() instanceof RuntimeException e) {
                    throw e;
                }
                if (next.failure() instanceof Error e) {
                    throw e;
                }
                write(dataset, await(next.batch()), types, out, problems, progress);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataException("interrupted while packing " + dataset.cliName(), e);
        } finally {
            reader.interrupt();
            try {
                reader.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        for (Split split : Split.values()) {
            String name = datasetFile(dataset, split, types);
            if (out.has(name)) {
                report.file(name, out.lines(name, false).lines());
                out.finish(name);
            }
        }
        var train = report.get(dataset, Split.TRAIN);
        if (train.sequences() == 0) {
            throw new DataException(dataset.cliName() + ": no training sequences from " + train.records() + " records in "
                    + files.size() + " file(s) (" + (problems.total() - problemsBefore) + " input problems, "
                    + train.skippedTotal() + " skipped); check that --input points at " + dataset.cliName()
                    + " data (first file: " + files.getFirst().path() + ")");
        }
        if (dataset.hasEvalSplit() && report.get(dataset, Split.EVAL).records() == 0) {
            log.println("warning: " + dataset.cliName() + " has no eval records; no " + dataset.filePrefix()
                    + "_eval file is written");
        }
    }

    /** What the reader hands the writer: a batch on its way through the pool, the end, or a failure. */
    private record Read(CompletableFuture<PackBatch> batch, Throwable failure) {
        static final Read END = new Read(null, null);
    }

    /**
     * The reading half of {@link #packDataset}, on a thread of its own so that reading and
     * decompressing the input overlaps writing the output: reads the files' batches in order,
     * hands each to the pool to parse and pack (numbered after all earlier batches) and queues
     * it for the writer; then {@link Read#END}, or the failure that stopped it. Stops quietly when
     * interrupted (the writer has failed).
     */
    private static void read(PackBatch.Setup setup, List<InputFile> files, int bytes, ExecutorService pool,
                             BlockingQueue<Read> queue) {
        CompletableFuture<long[]> base = CompletableFuture.completedFuture(new long[2]);
        Read last = Read.END;
        try {
            for (InputFile file : files) {
                try (var batches = new RecordBatches(file.path(), bytes)) {
                    RecordBatches.Batch batch;
                    while ((batch = batches.next()) != null) {
                        var work = new PackBatch(setup, file, batch);
                        var parsed = CompletableFuture.supplyAsync(work::parse, pool);
                        var before = base;
                        base = parsed.thenCombine(before, PackBatch::nextBase);
                        queue.put(new Read(parsed.thenCombineAsync(before, PackBatch::pack, pool), null));
                    }
                } catch (IOException e) {
                    throw new DataException("cannot read " + file.path() + ": " + e.getMessage(), e);
                } catch (UncheckedIOException e) {
                    throw new DataException("cannot read " + file.path() + ": " + e.getCause().getMessage(), e);
                }
            }
        } catch (InterruptedException e) {
            return;
        } catch (RuntimeException | Error e) {
            last = new Read(null, e);
        }
        try {
            queue.put(last);
        } catch (InterruptedException e) {
            // The writer stopped (it failed): nobody waits for the end.
        }
    }

    private static PackBatch await(CompletableFuture<PackBatch> done) {
        try {
            return done.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /**
     * The in-order half of a batch: its problems (the first is fatal with {@code --strict}), its
     * counts, and its lines appended to the dataset's file and to the combined file of the split
     * (which thus holds every dataset in order without being copied afterwards).
     */
    private void write(FeedbackDataset dataset, PackBatch batch, String types, OutputFiles out, InputProblems problems,
                       ProgressLine progress) throws IOException {
        for (PackBatch.Problem p : batch.problems) {
            problems.report(p.reason(), p.where(), p.detail());
        }
        for (Split split : batch.splitOrder()) {
            int s = split.ordinal();
            var counts = report.counts(dataset, split);
            counts.records += batch.recordCount(split);
            for (FeedbackType type : FeedbackType.values()) {
                long n = batch.sequences[s][type.ordinal()];
                if (n > 0) {
                    counts.sequences.merge(type, n, Long::sum);
                }
            }
            batch.skipped.get(s).forEach((reason, n) -> counts.skipped.merge(reason, n, Long::sum));
        }
        for (Split split : Split.values()) {
            var ends = batch.output.ends[split.ordinal()];
            if (ends.count == 0) {
                continue;
            }
            PyJson json = batch.output.json[split.ordinal()];
            var bytes = ByteBuffer.wrap(json.bytes(), 0, ends.at[ends.count - 1]);
            out.lines(datasetFile(dataset, split, types), false).writeLines(bytes, ends.at, ends.count);
            var all = out.lines(combinedFile(split, types), true);
            all.writeLines(bytes, ends.at, ends.count);
            out.keep(all, json.bytes(), bytes.limit());
        }
        batch.release();
        long total = report.totalRecords();
        progress.tick(() -> String.format("pack: %s, %,d records, %,d sequences, %,.0f records/s",
                dataset.cliName(), total, report.totalSequences(), total / progress.seconds()));
    }

    /** Every file a run with these feedback types can write (which of them it does depends on the input). */
    private static List<String> outputNames(String types) {
        var names = new ArrayList<String>();
        for (Split split : Split.values()) {
            names.add(combinedFile(split, types));
            names.add(shuffledFile(split, types));
            for (FeedbackDataset dataset : FeedbackDataset.values()) {
                names.add(datasetFile(dataset, split, types));
            }
        }
        return names;
    }

    private static String shuffledFile(Split split, String types) {
        return split.label() + "_" + types + "_shuffled.jsonl";
    }

    private static String combinedFile(Split split, String types) {
        return split == Split.TRAIN ? trainFile(types) : evalFile(types);
    }

    private static String datasetFile(FeedbackDataset dataset, Split split, String types) {
        return dataset.filePrefix() + "_" + split.label() + "_" + types + ".jsonl";
    }
}

package io.cohx.coh.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * Endless training batches from JSON-lines files (docs/COH.md#packing): examples are read in order,
 * epoch after epoch, turned into tokens and loss masks by a {@link TextProcessor}, appended to a
 * buffer, and whenever the buffer holds more than {@code batch*seq} tokens that many are cut off
 * the front as one {@link PackedBatch}; examples run across row and batch boundaries, with no
 * padding. {@link #feedback} reads {@code cohx pack} output (fields from each example),
 * {@link #pretraining} plain text under a configurable key. {@link #position()} captures the
 * state for a checkpoint and the constructor resumes from it on exactly the next token.
 *
 * <p>Blank lines are skipped; a line that is not JSON is reported with file:line and skipped (as
 * the reference printed and skipped it), or is fatal with {@code strict}; a missing field is
 * always fatal. Data that cannot fill a single batch in a whole epoch is an error, not a hang.
 * Optional per-epoch file-order shuffling is seeded and part of the position.
 */
public final class PackedBatches implements Iterator<PackedBatch>, AutoCloseable {

    /**
     * Batch shape and reading options. {@code segmentIds}: also emit example numbers per token
     * (off by default, as the reference has none). {@code shuffleFiles}: new file order each epoch.
     */
    public record Options(int batchSize, int seqLength, boolean segmentIds, boolean shuffleFiles, long seed,
                          boolean strict) {

        public Options {
            if (batchSize <= 0 || seqLength <= 0) {
                throw new DataException("batch size and sequence length must be positive (got " + batchSize + " x "
                        + seqLength + ")");
            }
        }

        public static Options of(int batchSize, int seqLength) {
            return new Options(batchSize, seqLength, false, false, 0, false);
        }

        public Options withSegmentIds(boolean on) {
            return new Options(batchSize, seqLength, on, shuffleFiles, seed, strict);
        }

        public Options withShuffledFiles(long newSeed) {
            return new Options(batchSize, seqLength, segmentIds, true, newSeed, strict);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Path> files;
    private final TextProcessor processor;
    private final Options options;
    private final InputProblems problems;
    private final int chunk;

    private final int[] order;
    private final SeededChoice rng;
    private int fileIndex;
    private long epoch;
    private LineSource source;
    private long startOffset;
    private long startLine;

    private int[] tokens = new int[1 << 12];
    private float[] masks = new float[1 << 12];
    private int[] segments;
    private int size;
    private long segmentCounter;

    private final boolean fresh;
    private long batchesEmitted;
    private long examplesThisEpoch;
    private long tokensThisEpoch;

    public static PackedBatches feedback(List<Path> files, Tokenizer tokenizer, Options options, PrintStream log) {
        return new PackedBatches(files, new TextProcessor(tokenizer, TextProcessor.Config.feedback()), options, null, log);
    }

    public static PackedBatches pretraining(List<Path> files, String textField, Tokenizer tokenizer, Options options,
                                            PrintStream log) {
        return new PackedBatches(files, new TextProcessor(tokenizer, TextProcessor.Config.text(textField)), options,
                null, log);
    }

    /** Starts at the beginning of {@code files}, or at {@code start} (a position from {@link #position()}). */
    public PackedBatches(List<Path> files, TextProcessor processor, Options options, DataPosition start,
                         PrintStream log) {
        if (files.isEmpty()) {
            throw new DataException("no data files given");
        }
        this.files = List.copyOf(files);
        this.processor = processor;
        this.options = options;
        this.problems = new InputProblems(options.strict(), log);
        this.chunk = Math.multiplyExact(options.batchSize(), options.seqLength());
        this.segments = options.segmentIds() ? new int[tokens.length] : null;
        this.order = new int[files.size()];
        if (start == null) {
            fresh = true;
            rng = new SeededChoice("batches:" + options.seed());
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            startEpoch();
        } else {
            fresh = false;
            var names = this.files.stream().map(Path::toString).toList();
            if (!names.equals(start.files())) {
                throw new DataException("the saved data position is for files " + start.files() + ", not " + names
                        + "; resume with the same data files (in the same order)");
            }
            if (options.segmentIds() != (start.segments() != null)) {
                throw new DataException("the saved data position was made with segment ids "
                        + (start.segments() != null ? "on" : "off") + "; resume with the same setting");
            }
            rng = new SeededChoice("");
            rng.setState(start.rngState());
            System.arraycopy(start.order(), 0, order, 0, order.length);
            fileIndex = start.fileIndex();
            epoch = start.epoch();
            startOffset = start.byteOffset();
            startLine = start.line();
            ensure(start.tokens().length);
            System.arraycopy(start.tokens(), 0, tokens, 0, start.tokens().length);
            System.arraycopy(start.masks(), 0, masks, 0, start.masks().length);
            if (segments != null) {
                System.arraycopy(start.segments(), 0, segments, 0, start.segments().length);
            }
            size = start.tokens().length;
            segmentCounter = start.segmentCounter();
        }
    }

    private void startEpoch() {
        if (options.shuffleFiles()) {
            rng.shuffle(order);
        }
        examplesThisEpoch = 0;
        tokensThisEpoch = 0;
    }

    /** The position after the last batch returned; resuming from it continues with the next batch. */
    public DataPosition position() {
        long offset = source != null ? source.offset() : startOffset;
        long line = source != null ? source.lineNumber() : startLine;
        return new DataPosition(files.stream().map(Path::toString).toList(), order.clone(), fileIndex, offset, line, epoch,
                rng.state(), Arrays.copyOf(tokens, size), Arrays.copyOf(masks, size),
                segments == null ? null : Arrays.copyOf(segments, size), segmentCounter);
    }

    public long epoch() {
        return epoch;
    }

    /** Lines skipped because they were not JSON (see {@link InputProblems}). */
    public long skippedLines() {
        return problems.total();
    }

    @Override
    public boolean hasNext() {
        return true;
    }

    @Override
    public PackedBatch next() {
        while (size <= chunk) {
            readExample();
        }
        var batchTokens = Arrays.copyOf(tokens, chunk);
        var batchMasks = Arrays.copyOf(masks, chunk);
        int[] batchSegments = segments == null ? null : renumber(Arrays.copyOf(segments, chunk));
        size -= chunk;
        System.arraycopy(tokens, chunk, tokens, 0, size);
        System.arraycopy(masks, chunk, masks, 0, size);
        if (segments != null) {
            System.arraycopy(segments, chunk, segments, 0, size);
        }
        batchesEmitted++;
        return new PackedBatch(options.batchSize(), options.seqLength(), batchTokens, batchMasks, batchSegments, epoch);
    }

    /** Example numbers to 1, 2, ... within each row, so values do not depend on where reading began. */
    private int[] renumber(int[] ids) {
        int seq = options.seqLength();
        var out = new int[ids.length];
        for (int r = 0; r < options.batchSize(); r++) {
            int id = 1;
            for (int c = 0; c < seq; c++) {
                int i = r * seq + c;
                if (c > 0 && ids[i] != ids[i - 1]) {
                    id++;
                }
                out[i] = id;
            }
        }
        return out;
    }

    private void readExample() {
        try {
            if (source == null) {
                source = new LineSource(files.get(order[fileIndex]), startOffset, startLine);
            }
            String line = source.next();
            if (line == null) {
                nextFile();
                return;
            }
            if (line.isBlank()) {
                return;
            }
            Path file = files.get(order[fileIndex]);
            JsonNode example;
            try {
                example = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                problems.report("malformed JSON", file + ":" + source.lineNumber(), "not valid JSON ("
                        + e.getOriginalMessage() + ")");
                return;
            }
            TextProcessor.Encoded encoded;
            try {
                encoded = processor.encode(example);
            } catch (DataException e) {
                throw new DataException(file + ":" + source.lineNumber() + ": " + e.getMessage(), e);
            }
            append(encoded);
        } catch (IOException e) {
            throw new DataException("cannot read " + files.get(order[fileIndex]) + ": " + e.getMessage(), e);
        }
    }

    private void append(TextProcessor.Encoded e) {
        int n = e.tokens().length;
        ensure(size + n);
        System.arraycopy(e.tokens(), 0, tokens, size, n);
        System.arraycopy(e.masks(), 0, masks, size, n);
        if (segments != null) {
            Arrays.fill(segments, size, size + n, (int) segmentCounter);
        }
        segmentCounter++;
        size += n;
        examplesThisEpoch++;
        tokensThisEpoch += n;
    }

    private void nextFile() throws IOException {
        source.close();
        source = null;
        startOffset = 0;
        startLine = 0;
        fileIndex++;
        if (fileIndex < files.size()) {
            return;
        }
        if (fresh && epoch == 0) {
            if (examplesThisEpoch == 0) {
                throw new DataException("no usable example in " + files + " (" + problems.total()
                        + " malformed lines); check the files and the text field");
            }
            if (batchesEmitted == 0 && tokensThisEpoch <= chunk) {
                throw new DataException(files + " hold " + tokensThisEpoch + " tokens in " + examplesThisEpoch
                        + " examples, but one batch of " + options.batchSize() + " x " + options.seqLength()
                        + " needs more than " + chunk + "; use a smaller batch size or sequence length, or more data");
            }
        }
        fileIndex = 0;
        epoch++;
        startEpoch();
    }

    private void ensure(int n) {
        if (n > tokens.length) {
            int cap = Math.max(n, tokens.length * 2);
            tokens = Arrays.copyOf(tokens, cap);
            masks = Arrays.copyOf(masks, cap);
            if (segments != null) {
                segments = Arrays.copyOf(segments, cap);
            }
        }
    }

    @Override
    public void close() {
        try {
            if (source != null) {
                source.close();
            }
        } catch (IOException ignored) {
            // Read-only file; nothing to lose.
        }
    }
}

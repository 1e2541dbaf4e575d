package io.cohx.coh.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;

/**
 * The input side of {@link RecordReader} cut into batches of about a megabyte, so that records
 * can be parsed and packed on several threads while one thread reads: a JSON-lines file yields
 * its raw lines (not yet decoded or parsed, see {@link #record}); a JSON array file is parsed here
 * (it cannot be split without parsing) and yields its elements. Lines end at {@code \n},
 * {@code \r} or {@code \r\n} and are numbered from 1, blank ones included, exactly as
 * {@link java.io.BufferedReader#readLine()} does.
 */
final class RecordBatches implements AutoCloseable {

    /**
     * Jackson, made on first use (a JSON array file, a line the dialogue fast path does not take):
     * an ObjectMapper sets up date formats, locale data and service look-ups, which took a small
     * {@code cohx pack} of HH-RLHF lines, which never need it, tens of ms.
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    /** Bytes of lines per batch (a longer line makes a batch of its own). */
    static final int BATCH_BYTES = 1 << 20;
    /** Elements per batch of a JSON array file at {@link #BATCH_BYTES}. */
    private static final int BATCH_ELEMENTS = 1024;

    /**
     * One batch: {@code count} items numbered from {@code firstLine} (lines), or with their own
     * line numbers (array elements). Line {@code i} is {@code data[starts[i], ends[i])} without its
     * line break; element {@code i} is {@code nodes[i]}, or null with {@code problems[i]} saying why.
     */
    static final class Batch {
        int count;
        byte[] data;
        int[] starts;
        int[] ends;
        long firstLine;
        JsonNode[] nodes;
        long[] lines;
        String[] problems;
        /** A problem after the last item (a broken array: the rest of the file is skipped). */
        String trailingProblem;
        long trailingLine;

        boolean isArray() {
            return nodes != null;
        }

        long line(int i) {
            return nodes != null ? lines[i] : firstLine + i;
        }

        private void addLine(int start, int end) {
            if (count == starts.length) {
                starts = Arrays.copyOf(starts, count * 2);
                ends = Arrays.copyOf(ends, count * 2);
            }
            starts[count] = start;
            ends[count] = end;
            count++;
        }
    }

    /**
     * What one line holds: nothing (blank), a problem ({@code reason} is its short form for the
     * summary, {@code problem} the explanation), or a JSON object.
     */
    record Parsed(JsonNode node, String reason, String problem) {
        static final Parsed BLANK = new Parsed(null, null, null);

        static Parsed failed(String reason, String problem) {
            return new Parsed(null, reason, problem);
        }
    }

    static final String MALFORMED_JSON = "malformed JSON";
    static final String INVALID_UTF8 = "invalid UTF-8";

    private final Path file;
    private final InputStream in;
    private final boolean array;
    private JsonParser arrayParser;
    private final int batchBytes;
    private final int batchElements;
    private byte[] buf;
    private int filled;
    private boolean eof;
    private boolean skipLineFeed;
    private long nextLine = 1;

    RecordBatches(Path file) throws IOException {
        this(file, BATCH_BYTES);
    }

    /** With batches of {@code batchBytes} (tests use tiny ones to cross every boundary case). */
    RecordBatches(Path file, int batchBytes) throws IOException {
        this.file = file;
        this.batchBytes = batchBytes;
        this.batchElements = Math.max(1, (int) ((long) BATCH_ELEMENTS * batchBytes / BATCH_BYTES));
        this.buf = new byte[batchBytes];
        this.in = RecordReader.open(file);
        in.mark(1 << 12);
        int c;
        do {
            c = in.read();
        } while (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0xef || c == 0xbb || c == 0xbf);
        in.reset();
        this.array = c == '[';
    }

    /** The next batch, or null at the end of the file. */
    Batch next() throws IOException {
        return array ? nextElements() : nextLines();
    }

    private Batch nextLines() throws IOException {
        while (true) {
            while (!eof && filled < buf.length) {
                int n = in.read(buf, filled, buf.length - filled);
                if (n < 0) {
                    eof = true;
                } else {
                    filled += n;
                }
            }
            if (skipLineFeed && filled > 0) {
                // The last batch ended at a \r: a \n right after it belongs to that line break.
                skipLineFeed = false;
                if (buf[0] == '\n') {
                    System.arraycopy(buf, 1, buf, 0, --filled);
                    continue;
                }
            }
            int i = 0;
            var batch = new Batch();
            batch.starts = new int[1024];
            batch.ends = new int[1024];
            batch.firstLine = nextLine;
            int lineStart = i;
            byte[] b = buf;
            int end = filled;
            while (i < end) {
                byte c = b[i];
                if (c != '\n' && c != '\r') {
                    i++;
                    continue;
                }
                batch.addLine(lineStart, i);
                i++;
                if (c == '\r') {
                    if (i < end) {
                        if (b[i] == '\n') {
                            i++;
                        }
                    } else if (!eof) {
                        skipLineFeed = true;
                    }
                }
                lineStart = i;
            }
            if (eof && lineStart < end) {
                batch.addLine(lineStart, end);
                lineStart = end;
            }
            if (batch.count == 0) {
                if (eof) {
                    return null;
                }
                // One line longer than the buffer: read more of it.
                buf = Arrays.copyOf(buf, buf.length * 2);
                continue;
            }
            batch.data = buf;
            int rest = end - lineStart;
            buf = new byte[Math.max(batchBytes, rest * 2)];
            System.arraycopy(batch.data, lineStart, buf, 0, rest);
            filled = rest;
            nextLine += batch.count;
            return batch;
        }
    }

    private Batch nextElements() throws IOException {
        if (arrayParser == null) {
            arrayParser = Json.MAPPER.getFactory().createParser(in);
            arrayParser.nextToken();
        }
        if (arrayParser.isClosed()) {
            return null;
        }
        var nodes = new ArrayList<JsonNode>();
        var lines = new ArrayList<Long>();
        var problems = new ArrayList<String>();
        var batch = new Batch();
        while (nodes.size() < batchElements) {
            try {
                JsonToken token = arrayParser.nextToken();
                if (token == null || token == JsonToken.END_ARRAY) {
                    arrayParser.close();
                    break;
                }
                long line = arrayParser.currentTokenLocation().getLineNr();
                JsonNode node = arrayParser.readValueAsTree();
                boolean ok = node != null && node.isObject();
                nodes.add(ok ? node : null);
                lines.add(line);
                problems.add(ok ? null : "array element is not a JSON object");
            } catch (JsonProcessingException e) {
                // A broken array cannot be resynchronised: report once and stop this file.
                batch.trailingLine = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
                batch.trailingProblem = "not valid JSON (" + e.getOriginalMessage() + "); the rest of this file is skipped";
                arrayParser.close();
                break;
            }
        }
        if (nodes.isEmpty() && batch.trailingProblem == null) {
            return null;
        }
        batch.count = nodes.size();
        batch.nodes = nodes.toArray(JsonNode[]::new);
        batch.lines = lines.stream().mapToLong(Long::longValue).toArray();
        batch.problems = problems.toArray(String[]::new);
        return batch;
    }

    /** The text of line {@code i} of a lines batch, without a byte order mark on line 1. */
    static String text(Batch batch, int i) {
        String line = new String(batch.data, batch.starts[i], batch.ends[i] - batch.starts[i], StandardCharsets.UTF_8);
        if (batch.line(i) == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
            line = line.substring(1);
        }
        return line;
    }

    /** Line or element {@code i} of {@code batch} as a record, a problem, or blank. */
    static Parsed record(Batch batch, int i) {
        if (batch.isArray()) {
            return batch.nodes[i] != null ? new Parsed(batch.nodes[i], null, null) : Parsed.failed(MALFORMED_JSON, batch.problems[i]);
        }
        String line = text(batch, i);
        // Decoding turned any malformed byte into U+FFFD; only then is the line checked byte by
        // byte (U+FFFD may also be in the file, well-formed), so valid input pays one scan.
        if (line.indexOf('\uFFFD') >= 0) {
            int bad = firstMalformed(batch.data, batch.starts[i], batch.ends[i]);
            if (bad >= 0) {
                return Parsed.failed(INVALID_UTF8, String.format("byte 0x%02X at column %d is not valid UTF-8;"
                        + " save the file as UTF-8", batch.data[batch.starts[i] + bad] & 0xFF, bad + 1));
            }
        }
        return parse(line);
    }

    /** Offset in {@code b[from, to)} of the first byte that is not well-formed UTF-8, or -1. */
    static int firstMalformed(byte[] b, int from, int to) {
        var in = java.nio.ByteBuffer.wrap(b, from, to - from);
        var decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        var out = java.nio.CharBuffer.allocate(to - from);
        var result = decoder.decode(in, out, true);
        return result.isError() ? in.position() - from : -1;
    }

    /** A line of a JSON-lines file as a record, a problem, or blank. */
    static Parsed parse(String line) {
        if (line.isBlank()) {
            return Parsed.BLANK;
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            return Parsed.failed(MALFORMED_JSON, "not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!node.isObject()) {
            return Parsed.failed(MALFORMED_JSON, "expected a JSON object, found " + node.getNodeType().name().toLowerCase());
        }
        return new Parsed(node, null, null);
    }

    String where(long line) {
        return file + ":" + line;
    }

    @Override
    public void close() throws IOException {
        if (arrayParser != null) {
            arrayParser.close();
        }
        in.close();
    }
}

package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads JSON records from one file in any of the published layouts: JSON lines, a JSON array
 * (the file starts with {@code [}), either one gzip-compressed (recognised by its magic bytes,
 * whatever the name). Blank lines are skipped; a line that is not a JSON object is reported to
 * {@link InputProblems} with file:line and skipped.
 */
public final class RecordReader {

    /** Receives each record with the line it starts on (1-based). */
    @FunctionalInterface
    public interface Sink {
        void accept(JsonNode record, long line);
    }

    private RecordReader() {
    }

    /** Opens {@code file} for reading, gunzipping it when it starts with the gzip magic bytes. */
    public static InputStream open(Path file) throws IOException {
        var in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(in, 1 << 16), 1 << 16);
        }
        return in;
    }

    public static void read(Path file, InputProblems problems, Sink sink) {
        try (var batches = new RecordBatches(file)) {
            RecordBatches.Batch batch;
            while ((batch = batches.next()) != null) {
                for (int i = 0; i < batch.count; i++) {
                    var parsed = RecordBatches.record(batch, i);
                    if (parsed.problem() != null) {
                        problems.report(parsed.reason(), batches.where(batch.line(i)), parsed.problem());
                    } else if (parsed.node() != null) {
                        sink.accept(parsed.node(), batch.line(i));
                    }
                }
                if (batch.trailingProblem != null) {
                    problems.report(RecordBatches.MALFORMED_JSON, batches.where(batch.trailingLine), batch.trailingProblem);
                }
            }
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new DataException("cannot read " + file + ": " + e.getCause().getMessage(), e);
        }
    }
}

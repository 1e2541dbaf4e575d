package io.cohx.coh.data;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
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

    private static final ObjectMapper JSON = new ObjectMapper();

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
        try (InputStream in = open(file)) {
            in.mark(1 << 12);
            int c;
            do {
                c = in.read();
            } while (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == 0xef || c == 0xbb || c == 0xbf);
            in.reset();
            if (c == '[') {
                readArray(file, in, problems, sink);
            } else {
                readLines(file, in, problems, sink);
            }
        } catch (IOException e) {
            throw new DataException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (UncheckedIOException e) {
            throw new DataException("cannot read " + file + ": " + e.getCause().getMessage(), e);
        }
    }

    private static void readLines(Path file, InputStream in, InputProblems problems, Sink sink) throws IOException {
        var reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
        String line;
        long number = 0;
        while ((line = reader.readLine()) != null) {
            number++;
            if (number == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                line = line.substring(1);
            }
            if (line.isBlank()) {
                continue;
            }
            JsonNode node;
            try {
                node = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                problems.report("malformed JSON", file + ":" + number,
                        "not valid JSON (" + e.getOriginalMessage() + ")");
                continue;
            }
            if (!node.isObject()) {
                problems.report("malformed JSON", file + ":" + number,
                        "expected a JSON object, found " + node.getNodeType().name().toLowerCase());
                continue;
            }
            sink.accept(node, number);
        }
    }

    private static void readArray(Path file, InputStream in, InputProblems problems, Sink sink) throws IOException {
        try (JsonParser parser = JSON.getFactory().createParser(in)) {
            parser.nextToken();
            JsonToken token;
            while (true) {
                try {
                    token = parser.nextToken();
                    if (token == null || token == JsonToken.END_ARRAY) {
                        return;
                    }
                    long line = parser.currentTokenLocation().getLineNr();
                    JsonNode node = parser.readValueAsTree();
                    if (node == null || !node.isObject()) {
                        problems.report("malformed JSON", file + ":" + line, "array element is not a JSON object");
                        continue;
                    }
                    sink.accept(node, line);
                } catch (JsonProcessingException e) {
                    // A broken array cannot be resynchronised: report once and stop this file.
                    long line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
                    problems.report("malformed JSON", file + ":" + line,
                            "not valid JSON (" + e.getOriginalMessage() + "); the rest of this file is skipped");
                    return;
                }
            }
        }
    }
}

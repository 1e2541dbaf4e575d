package io.cohx.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.coh.data.RecordReader;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Strict JSON-lines input for evaluation (plain or gzip-compressed, recognised by its bytes):
 * one object per line, blank lines skipped. Unlike training data, where a bad line is skipped
 * and reported, an evaluation must not silently drop examples, so a malformed line is an error
 * that names the file and line.
 */
public final class JsonLines {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One record, its 1-based line number and the line as it was. */
    public record Line(long number, JsonNode node, String raw) {
        /** The string under {@code field}, or an error naming file, line and field. */
        public String text(Path file, String field) {
            JsonNode v = node.get(field);
            if (v == null || !v.isTextual()) {
                throw new EvalException(file + ":" + number + ": " + (v == null ? "no field '" + field + "'"
                        : "field '" + field + "' is " + v.getNodeType().name().toLowerCase() + ", expected a string")
                        + " (fields here: " + fieldNames() + ")");
            }
            return v.textValue();
        }

        private String fieldNames() {
            var names = new ArrayList<String>();
            node.fieldNames().forEachRemaining(names::add);
            return String.join(", ", names);
        }
    }

    private JsonLines() {}

    /** Every record of {@code file}, at most {@code limit} (0 = all). */
    public static List<Line> read(Path file, int limit) {
        if (!Files.isRegularFile(file)) {
            throw new EvalException(file + ": no such file");
        }
        List<Line> out = new ArrayList<>();
        try (var in = new BufferedReader(new InputStreamReader(RecordReader.open(file), StandardCharsets.UTF_8))) {
            String s;
            long n = 0;
            while ((s = in.readLine()) != null && (limit <= 0 || out.size() < limit)) {
                n++;
                if (s.isBlank()) {
                    continue;
                }
                JsonNode node;
                try {
                    node = JSON.readTree(s);
                } catch (JsonProcessingException e) {
                    throw new EvalException(file + ":" + n + ": malformed JSON (" + e.getOriginalMessage()
                            + "); each line must be one JSON object");
                }
                if (node == null || !node.isObject()) {
                    throw new EvalException(file + ":" + n + ": expected a JSON object, got " + (node == null ? "nothing"
                            : node.getNodeType().name().toLowerCase()));
                }
                out.add(new Line(n, node, s));
            }
        } catch (IOException e) {
            throw new EvalException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return out;
    }
}

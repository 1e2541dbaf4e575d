package io.cohx.coh.observe;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's machine-readable metrics: one JSON object per line in {@code metrics.jsonl}
 * ({@code {"step": 10, "split": "train", "hf_loss": 2.31, ...}}), appended and flushed per line,
 * so the file is readable while the run goes on and a crash loses at most one line. On resume,
 * lines past the resumed step are dropped first, so the file stays one consistent history.
 */
public final class MetricsLog implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper().configure(JsonGenerator.Feature.AUTO_CLOSE_TARGET, false);

    private final Path file;
    private final BufferedWriter out;

    /** Opens {@code dir/metrics.jsonl} for appending, keeping only lines with step ≤ {@code resumeStep} (all if negative). */
    public MetricsLog(Path dir, long resumeStep) {
        this.file = dir.resolve("metrics.jsonl");
        try {
            Files.createDirectories(dir);
            if (resumeStep >= 0 && Files.exists(file)) {
                var keep = new ArrayList<String>();
                for (Record r : read(file)) {
                    if (r.step() <= resumeStep) {
                        keep.add(JSON.writeValueAsString(r.values()));
                    }
                }
                Path tmp = file.resolveSibling("metrics.jsonl.tmp");
                Files.write(tmp, keep, StandardCharsets.UTF_8);
                Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open " + file + ": " + e.getMessage(), e);
        }
    }

    public Path file() {
        return file;
    }

    /** Appends one record: step, split ("train" or "eval") and the metric values. */
    public void log(long step, String split, Map<String, ? extends Number> metrics) {
        ObjectNode node = JSON.createObjectNode();
        node.put("step", step);
        node.put("split", split);
        node.put("time", System.currentTimeMillis() / 1000.0);
        metrics.forEach((k, v) -> {
            double d = v.doubleValue();
            if (Double.isFinite(d)) {
                node.put(k, v instanceof Long || v instanceof Integer ? v.longValue() : d);
            } else {
                node.put(k, Double.toString(d)); // JSON has no NaN/Infinity; keep the fact readable
            }
        });
        try {
            out.write(JSON.writeValueAsString(node));
            out.newLine();
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file + " failed: " + e.getMessage(), e);
        }
    }

    /** One line of a metrics file. */
    public record Record(long step, String split, Map<String, Object> values) {
        /** A numeric metric, or NaN when absent or not a number. */
        public double get(String name) {
            Object v = values.get(name);
            return v instanceof Number n ? n.doubleValue() : Double.NaN;
        }
    }

    /** Reads a metrics file; a malformed line is an error naming the file and line. */
    public static List<Record> read(Path file) throws IOException {
        var out = new ArrayList<Record>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            Map<String, Object> values;
            try {
                @SuppressWarnings("unchecked")
                Map<String, Object> m = JSON.readValue(line, LinkedHashMap.class);
                values = m;
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                if (i == lines.size() - 1) {
                    break; // a last line cut by a crash
                }
                throw new IOException(file + ":" + (i + 1) + ": not a JSON object: " + e.getOriginalMessage(), e);
            }
            if (!(values.get("step") instanceof Number step)) {
                throw new IOException(file + ":" + (i + 1) + ": no numeric \"step\"");
            }
            out.add(new Record(step.longValue(), String.valueOf(values.getOrDefault("split", "train")), values));
        }
        return out;
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

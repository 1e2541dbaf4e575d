package io.cohx.coh.data;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one {@code cohx pack} run read and wrote, per dataset and split: records read, sequences
 * written per feedback type, records skipped per reason, and the files with their line counts.
 * {@link #table()} renders the summary the command prints at the end.
 */
public final class PackReport {

    /** Counts of one dataset split. */
    public static final class SplitCounts {
        long records;
        final Map<FeedbackType, Long> sequences = new EnumMap<>(FeedbackType.class);
        final Map<String, Long> skipped = new TreeMap<>();

        public long records() {
            return records;
        }

        public long sequences() {
            return sequences.values().stream().mapToLong(Long::longValue).sum();
        }

        public long sequences(FeedbackType type) {
            return sequences.getOrDefault(type, 0L);
        }

        public Map<String, Long> skipped() {
            return Map.copyOf(skipped);
        }

        public long skippedTotal() {
            return skipped.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private final Map<String, SplitCounts> counts = new LinkedHashMap<>();
    private final Map<String, Long> files = new LinkedHashMap<>();

    SplitCounts counts(FeedbackDataset dataset, Split split) {
        return counts.computeIfAbsent(dataset.cliName() + " " + split.label(), k -> new SplitCounts());
    }

    /** Counts of {@code dataset}/{@code split}; zeros if nothing was read. */
    public SplitCounts get(FeedbackDataset dataset, Split split) {
        return counts.getOrDefault(dataset.cliName() + " " + split.label(), new SplitCounts());
    }

    void file(String name, long lines) {
        files.put(name, lines);
    }

    /** Output file name to the number of sequences (lines) in it. */
    public Map<String, Long> files() {
        return Map.copyOf(files);
    }

    public long totalRecords() {
        return counts.values().stream().mapToLong(c -> c.records).sum();
    }

    public long totalSequences() {
        return counts.values().stream().mapToLong(SplitCounts::sequences).sum();
    }

    /** The summary table: one row per dataset split, then the files. */
    public String table() {
        var rows = new ArrayList<List<String>>();
        rows.add(List.of("dataset", "records", "p", "n", "pn", "np", "sequences", "skipped"));
        for (var e : counts.entrySet()) {
            SplitCounts c = e.getValue();
            var skipped = new StringBuilder();
            c.skipped.forEach((reason, n) -> skipped.append(skipped.isEmpty() ? "" : "; ").append(n).append(' ')
                    .append(reason));
            rows.add(List.of(e.getKey(), fmt(c.records), fmt(c.sequences(FeedbackType.P)), fmt(c.sequences(FeedbackType.N)),
                    fmt(c.sequences(FeedbackType.PN)), fmt(c.sequences(FeedbackType.NP)), fmt(c.sequences()),
                    skipped.isEmpty() ? "0" : skipped.toString()));
        }
        var sb = new StringBuilder();
        int[] width = new int[rows.getFirst().size()];
        for (var r : rows) {
            for (int i = 0; i < r.size() - 1; i++) {
                width[i] = Math.max(width[i], r.get(i).length());
            }
        }
        for (var r : rows) {
            for (int i = 0; i < r.size(); i++) {
                String cell = r.get(i);
                if (i == r.size() - 1) {
                    sb.append(cell);
                } else if (i == 0) {
                    sb.append(cell).append(" ".repeat(width[i] - cell.length())).append("  ");
                } else {
                    sb.append(" ".repeat(width[i] - cell.length())).append(cell).append("  ");
                }
            }
            sb.append('\n');
        }
        sb.append("files:\n");
        files.forEach((name, n) -> sb.append("  ").append(name).append("  ").append(fmt(n)).append(" sequences\n"));
        return sb.toString();
    }

    private static String fmt(long n) {
        return String.format("%,d", n);
    }
}

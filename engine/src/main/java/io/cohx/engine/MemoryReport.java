package io.cohx.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-device memory of one compiled {@link Jit} specialization, from {@link Jit#memoryReport}:
 * the bytes each input occupies on one device under its layout (so parameters and optimizer
 * state can be told apart by path prefix), and the plugin's compiled figures for arguments,
 * outputs, aliased bytes, temporaries (activations and other scratch) and peak. All byte counts
 * are per device. Plugins differ in what {@code peak} covers (the CPU plugin's leaves out
 * temporaries, and it is 0 where not reported), so {@link #peakUpperBound} also adds the parts up.
 *
 * @param inputBytes bytes per device of each input, by path (sorted)
 */
public record MemoryReport(String function, int devices, Map<String, Long> inputBytes, long arguments, long outputs, long aliased,
                           long temporaries, long peak, long generatedCode) {

    public MemoryReport {
        inputBytes = Collections.unmodifiableMap(new LinkedHashMap<>(inputBytes));
    }

    /** Bytes per device of the inputs at {@code prefix} or under {@code prefix.} (e.g. "params", "opt_state"). */
    public long inputBytesUnder(String prefix) {
        long sum = 0;
        for (var e : inputBytes.entrySet()) {
            String p = e.getKey();
            if (prefix.isEmpty() || p.equals(prefix) || p.startsWith(prefix + ".")) {
                sum += e.getValue();
            }
        }
        return sum;
    }

    /** The larger of the plugin's peak and arguments + outputs not aliased to them + temporaries. */
    public long peakUpperBound() {
        return Math.max(peak, arguments + Math.max(0, outputs - aliased) + temporaries);
    }

    /**
     * A table for {@code --dry-run}: one line per group (label → path prefix), the remaining
     * inputs, activations (temporaries), outputs not aliased to inputs, the plugin's peak and the
     * upper bound, per device.
     */
    public String format(Map<String, String> groups) {
        var lines = new ArrayList<String>();
        lines.add(String.format(Locale.ROOT, "%s: memory per device (%d device%s)", function, devices, devices == 1 ? "" : "s"));
        List<String> prefixes = new ArrayList<>(groups.values());
        for (var g : groups.entrySet()) {
            lines.add(row(g.getKey(), inputBytesUnder(g.getValue())));
        }
        long rest = 0;
        for (var e : inputBytes.entrySet()) {
            if (prefixes.stream().noneMatch(p -> e.getKey().equals(p) || e.getKey().startsWith(p + "."))) {
                rest += e.getValue();
            }
        }
        if (rest > 0 || groups.isEmpty()) {
            lines.add(row(groups.isEmpty() ? "inputs" : "other inputs", rest));
        }
        lines.add(row("activations (temporaries)", temporaries));
        lines.add(row("outputs not aliased", Math.max(0, outputs - aliased)));
        if (peak > 0) {
            lines.add(row("peak (plugin)", peak));
        }
        lines.add(row("peak (upper bound)", peakUpperBound()));
        return String.join("\n", lines);
    }

    private static String row(String label, long bytes) {
        return String.format(Locale.ROOT, "  %-28s %s", label, human(bytes));
    }

    /** Bytes in the largest binary unit that keeps the number at least 1, e.g. {@code 1.50 GiB}. */
    public static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.2f %s", v, units[u]);
    }
}

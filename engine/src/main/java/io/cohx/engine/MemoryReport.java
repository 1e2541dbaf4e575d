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
 * are per device; {@code peak} is 0 where the plugin does not report it (see {@link #peakOrEstimate}).
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

    /** The plugin's peak, or arguments + outputs not aliased to them + temporaries where it reports none. */
    public long peakOrEstimate() {
        return peak > 0 ? peak : arguments + outputs - aliased + temporaries;
    }

    /**
     * A table for {@code --dry-run}: one line per group (label → path prefix), the remaining
     * inputs, activations (temporaries), outputs not aliased to inputs and peak, in MiB per device.
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
        lines.add(row(peak > 0 ? "peak" : "peak (estimated)", peakOrEstimate()));
        return String.join("\n", lines);
    }

    private static String row(String label, long bytes) {
        return String.format(Locale.ROOT, "  %-28s %12.2f MiB", label, bytes / (1024.0 * 1024.0));
    }
}

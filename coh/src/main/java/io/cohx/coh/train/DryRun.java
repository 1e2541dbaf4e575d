package io.cohx.coh.train;

import io.cohx.engine.MemoryReport;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code cohx train --dry-run} found: the compiled train step's memory per device (or, for
 * a platform that is not here, none), the estimate from shapes ({@link MemoryEstimate}), and
 * whether the peak fits the device's memory.
 *
 * @param header         what was planned: model, parameters, mesh, platform
 * @param compiled       the compiled step's report, null when nothing could be compiled
 * @param compiledNote   how the compiled figures were obtained (the whole model, or extrapolated
 *                       from compiling fewer layers), shown under the table
 * @param estimate       the estimate from shapes
 * @param deviceMemory   bytes of memory of one device, 0 when unknown
 * @param deviceSource   where {@code deviceMemory} comes from ({@code --device-memory}, the plugin's own limit, the
 *                       host's memory), or why it is unknown
 */
public record DryRun(String header, MemoryReport compiled, String compiledNote, MemoryEstimate estimate, long deviceMemory,
                     String deviceSource) {

    /** The compiled step's peak when there is one, else the estimate's. */
    public long peak() {
        return compiled != null ? compiled.peakUpperBound() : estimate.peak();
    }

    /** Whether {@link #peak} fits {@link #deviceMemory}; null when the device's memory is unknown. */
    public Boolean fits() {
        return deviceMemory > 0 ? peak() <= deviceMemory : null;
    }

    /** The table {@code --dry-run} prints; {@code groups} names the compiled inputs' rows (label → path prefix). */
    public String table(Map<String, String> groups) {
        var lines = new ArrayList<String>();
        lines.add(header);
        if (compiled != null) {
            lines.add(compiled.format(groups));
            // The compiler's temporaries hold the gradients (f32, the parameters' shapes) among the activations.
            lines.add(String.format(Locale.ROOT, "    of which gradients (shapes)  %s", MemoryReport.human(estimate.gradients())));
            lines.add("  (" + compiledNote + ")");
        }
        lines.add("estimate from shapes (docs/MEMORY.md), per device:");
        for (var e : estimate.rows().entrySet()) {
            lines.add(String.format(Locale.ROOT, "  %-28s %s", e.getKey(), MemoryReport.human(e.getValue())));
        }
        String what = compiled != null ? "compiled peak" : "estimated peak";
        if (fits() == null) {
            lines.add("device memory: unknown" + (deviceSource == null || deviceSource.isEmpty() ? "" : " (" + deviceSource + ")"));
            lines.add(what + " " + MemoryReport.human(peak()) + "; device memory unknown: pass --device-memory (e.g. 16GiB) to check the fit");
        } else {
            lines.add("device memory: " + MemoryReport.human(deviceMemory) + " per device, from " + deviceSource);
            lines.add(String.format(Locale.ROOT, "%s %s %s %s per device: %s", what, MemoryReport.human(peak()), fits() ? "fits" : "does NOT fit",
                    MemoryReport.human(deviceMemory), fits() ? "ok" : "use more devices (--mesh-dim), --remat, --loss-chunk, or a smaller --batch-size"));
        }
        return String.join("\n", lines);
    }

    /**
     * The report of an L-layer step from those of the same step with 1 and 2 layers: the layers
     * are identical, so each one adds what the second added ({@code x(L) = x1 + (L-1)·(x2 - x1)}),
     * for every compiled figure and each top-level input group.
     */
    static MemoryReport extrapolate(MemoryReport one, MemoryReport two, int layers) {
        long n = layers - 1L;
        Map<String, Long> inputs = new LinkedHashMap<>();
        for (String group : groups(one, two)) {
            long a = one.inputBytesUnder(group);
            long b = two.inputBytesUnder(group);
            inputs.put(group, a + n * (b - a));
        }
        return new MemoryReport(two.function(), two.devices(), inputs, line(one.arguments(), two.arguments(), n),
                line(one.outputs(), two.outputs(), n), line(one.aliased(), two.aliased(), n), line(one.temporaries(), two.temporaries(), n),
                line(one.peak(), two.peak(), n), line(one.generatedCode(), two.generatedCode(), n));
    }

    private static long line(long a, long b, long n) {
        return Math.max(0, a + n * (b - a));
    }

    /** The first path components of both reports' inputs. */
    private static List<String> groups(MemoryReport one, MemoryReport two) {
        var g = new java.util.LinkedHashSet<String>();
        for (MemoryReport r : List.of(one, two)) {
            for (String p : r.inputBytes().keySet()) {
                int dot = p.indexOf('.');
                g.add(dot < 0 ? p : p.substring(0, dot));
            }
        }
        return new ArrayList<>(g);
    }

    /** Parses a memory size such as {@code 16GiB}, {@code 80GB}, {@code 512MiB} or a plain byte count. */
    public static long parseSize(String s, String flag) {
        var m = java.util.regex.Pattern.compile("(?i)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*(|b|k|kb|kib|m|mb|mib|g|gb|gib|t|tb|tib)\\s*").matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException(flag + " '" + s + "': give a size such as 16GiB, 80GB or 512MiB");
        }
        double v = Double.parseDouble(m.group(1));
        String u = m.group(2).toLowerCase(Locale.ROOT);
        double scale = switch (u) {
            case "", "b" -> 1;
            case "k", "kib" -> 1L << 10;
            case "kb" -> 1e3;
            case "m", "mib" -> 1L << 20;
            case "mb" -> 1e6;
            case "g", "gib" -> 1L << 30;
            case "gb" -> 1e9;
            case "t", "tib" -> 1L << 40;
            case "tb" -> 1e12;
            default -> throw new IllegalStateException(u);
        };
        return (long) (v * scale);
    }
}

package io.cohx.coh.data;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The two splits {@code cohx pack} writes: {@code train} and {@code eval} (the datasets call the
 * latter test or validation). Knows how to tell a split from a file name and, for summary
 * comparisons whose records carry one, from the record's {@code split} field.
 */
public enum Split {
    TRAIN("train"), EVAL("eval");

    private static final Pattern EVAL_NAME = Pattern.compile("(test|valid|validation|eval|dev)");
    /** "train" not glued to a preceding letter, so "pretrain.jsonl" is not taken for a train split. */
    private static final Pattern TRAIN_NAME = Pattern.compile("(?<![a-z])train");

    private final String label;

    Split(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    /** The split a file name suggests, or null if it suggests none. */
    static Split fromFileName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (TRAIN_NAME.matcher(n).find()) {
            return TRAIN;
        }
        return EVAL_NAME.matcher(n).find() ? EVAL : null;
    }

    /** The split named by a record's own {@code split} field ("train", "valid1", "valid2", ...), or null. */
    static Split fromRecord(JsonNode record) {
        JsonNode s = record.get("split");
        if (s == null || !s.isTextual()) {
            return null;
        }
        String v = s.textValue().toLowerCase(Locale.ROOT);
        if (v.equals("train")) {
            return TRAIN;
        }
        return EVAL_NAME.matcher(v).find() ? EVAL : null;
    }

    public static Split byLabel(String label) {
        return switch (label.toLowerCase(Locale.ROOT)) {
            case "train" -> TRAIN;
            case "eval", "test", "validation", "valid" -> EVAL;
            default -> throw new DataException("unknown split '" + label + "'; use train or eval");
        };
    }
}

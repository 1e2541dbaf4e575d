package io.cohx.models.tokenizer.jinja;

import java.util.List;
import java.util.Map;

/**
 * A parsed Jinja template in the subset Hugging Face chat templates use, rendered as jinja2
 * renders it (with {@code trim_blocks} and {@code lstrip_blocks}, as {@code apply_chat_template}
 * sets them). Parse once, render many times; immutable and thread-safe.
 */
public final class Template {

    private final List<Node> nodes;

    private Template(List<Node> nodes) {
        this.nodes = nodes;
    }

    /** Parses {@code source}; a construct outside the subset is a {@link JinjaException} naming its line. */
    public static Template parse(String source) {
        return new Template(Parser.parse(source));
    }

    /**
     * Renders with {@code variables} as the template's globals. Values are Java {@code String},
     * {@code Boolean}, {@code Long}/{@code Integer}, {@code Double}, {@code List} and {@code Map}
     * (converted to the template's types), {@code null} for None.
     */
    public String render(Map<String, Object> variables) {
        var scope = new Scope(null);
        for (var e : variables.entrySet()) scope.set(e.getKey(), convert(e.getValue()));
        var out = new StringBuilder();
        try {
            Node.renderAll(nodes, scope, out);
        } catch (Node.LoopControl c) {
            throw new JinjaException("'" + (c.isBreak ? "break" : "continue") + "' outside a for loop");
        }
        return out.toString();
    }

    private static Object convert(Object v) {
        if (v instanceof Integer i) return (long) i;
        if (v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Float f) return (double) f;
        if (v instanceof List<?> l) return l.stream().map(Template::convert).toList();
        if (v instanceof Map<?, ?> m) {
            var out = new java.util.LinkedHashMap<Object, Object>();
            for (var e : m.entrySet()) out.put(e.getKey(), convert(e.getValue()));
            return out;
        }
        return v;
    }
}

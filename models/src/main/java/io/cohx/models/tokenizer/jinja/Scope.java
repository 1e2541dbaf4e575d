package io.cohx.models.tokenizer.jinja;

import java.util.HashMap;
import java.util.Map;

/** Variables of one Jinja frame; a for-loop body gets its own frame, as in jinja2 (its sets do not leak). */
final class Scope {

    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    Object lookup(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.vars.containsKey(name)) return s.vars.get(name);
        }
        return Builtins.global(name);
    }

    void set(String name, Object value) {
        vars.put(name, value);
    }
}

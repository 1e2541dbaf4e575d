package io.cohx.models.tokenizer.jinja;

import java.util.LinkedHashMap;
import java.util.List;

/** A Jinja statement; {@link #render} appends its output. */
sealed interface Node {

    void render(Scope scope, StringBuilder out);

    static void renderAll(List<Node> nodes, Scope scope, StringBuilder out) {
        for (Node n : nodes) n.render(scope, out);
    }

    record Text(String text) implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            out.append(text);
        }
    }

    record Output(Expr expr) implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            out.append(Values.str(expr.eval(scope)));
        }
    }

    record Branch(Expr test, List<Node> body) {}

    record If(List<Branch> branches, List<Node> otherwise) implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            for (Branch b : branches) {
                if (Values.truthy(b.test().eval(scope))) {
                    renderAll(b.body(), scope, out);
                    return;
                }
            }
            renderAll(otherwise, scope, out);
        }
    }

    /** {@code set name = value}, or {@code set ns.attr = value} on a namespace. */
    record Set(String name, String attribute, Expr value, int line) implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            Object v = value.eval(scope);
            if (attribute == null) {
                scope.set(name, v);
                return;
            }
            if (!(scope.lookup(name) instanceof Builtins.Namespace ns)) {
                throw JinjaException.at(line, "'" + name + "' is not a namespace(); only namespaces take attribute assignments");
            }
            ns.put(attribute, v);
        }
    }

    /** Thrown by {@code break}/{@code continue}; cheap (no stack trace). */
    final class LoopControl extends RuntimeException {
        final boolean isBreak;

        LoopControl(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    record Jump(boolean isBreak) implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            throw new LoopControl(isBreak);
        }
    }

    record For(List<String> targets, Expr iterable, Expr filter, List<Node> body, List<Node> otherwise, int line)
            implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            List<Object> items = Values.iterate(iterable.eval(scope), line);
            if (filter != null) {
                items = items.stream().filter(item -> {
                    var s = new Scope(scope);
                    bind(s, item);
                    return Values.truthy(filter.eval(s));
                }).toList();
            }
            int n = items.size();
            for (int i = 0; i < n; i++) {
                var s = new Scope(scope);
                bind(s, items.get(i));
                var loop = new LinkedHashMap<Object, Object>();
                loop.put("index", (long) i + 1);
                loop.put("index0", (long) i);
                loop.put("revindex", (long) (n - i));
                loop.put("revindex0", (long) (n - i - 1));
                loop.put("first", i == 0);
                loop.put("last", i == n - 1);
                loop.put("length", (long) n);
                loop.put("previtem", i > 0 ? items.get(i - 1) : Values.UNDEFINED);
                loop.put("nextitem", i + 1 < n ? items.get(i + 1) : Values.UNDEFINED);
                s.set("loop", loop);
                try {
                    renderAll(body, s, out);
                } catch (LoopControl c) {
                    if (c.isBreak) break;
                }
            }
            if (n == 0) renderAll(otherwise, scope, out);
        }

        private void bind(Scope s, Object item) {
            if (targets.size() == 1) {
                s.set(targets.getFirst(), item);
                return;
            }
            List<Object> parts = Values.iterate(item, line);
            if (parts.size() != targets.size()) {
                throw JinjaException.at(line, "cannot unpack " + parts.size() + " values into " + targets.size() + " names");
            }
            for (int k = 0; k < targets.size(); k++) s.set(targets.get(k), parts.get(k));
        }
    }

    /** Hugging Face's {@code {% generation %}} marks assistant text for masks; rendering just emits the body. */
    record Block(List<Node> body) implements Node {
        @Override
        public void render(Scope scope, StringBuilder out) {
            renderAll(body, scope, out);
        }
    }
}

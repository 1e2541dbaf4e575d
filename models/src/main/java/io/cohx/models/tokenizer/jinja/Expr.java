package io.cohx.models.tokenizer.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A Jinja expression, evaluated with Python's semantics (what jinja2 does, since it runs on Python). */
sealed interface Expr {

    Object eval(Scope scope);

    record Literal(Object value) implements Expr {
        @Override
        public Object eval(Scope scope) {
            return value;
        }
    }

    record Name(String name, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            return scope.lookup(name);
        }
    }

    record ListOf(List<Expr> items) implements Expr {
        @Override
        public Object eval(Scope scope) {
            var out = new ArrayList<>(items.size());
            for (Expr e : items) out.add(e.eval(scope));
            return out;
        }
    }

    record DictOf(List<Expr> keys, List<Expr> values) implements Expr {
        @Override
        public Object eval(Scope scope) {
            var out = new LinkedHashMap<Object, Object>();
            for (int i = 0; i < keys.size(); i++) out.put(keys.get(i).eval(scope), values.get(i).eval(scope));
            return out;
        }
    }

    /** {@code obj.name} and {@code obj[key]}: jinja2 tries the attribute, then the item (or the other way round). */
    record Get(Expr target, Expr key, boolean dotted, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            return Values.get(target.eval(scope), key.eval(scope), dotted, line);
        }
    }

    record Slice(Expr target, Expr start, Expr stop, Expr step, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            return Values.slice(target.eval(scope), start == null ? null : start.eval(scope),
                    stop == null ? null : stop.eval(scope), step == null ? null : step.eval(scope), line);
        }
    }

    record Unary(String op, Expr operand, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            Object v = operand.eval(scope);
            return switch (op) {
                case "not" -> !Values.truthy(v);
                case "-" -> Values.binary("-", 0L, v, line);
                default -> v;
            };
        }
    }

    record Binary(String op, Expr left, Expr right, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            switch (op) {
                case "and" -> {
                    Object l = left.eval(scope);
                    return Values.truthy(l) ? right.eval(scope) : l;
                }
                case "or" -> {
                    Object l = left.eval(scope);
                    return Values.truthy(l) ? l : right.eval(scope);
                }
                default -> {
                    return Values.binary(op, left.eval(scope), right.eval(scope), line);
                }
            }
        }
    }

    record Conditional(Expr test, Expr then, Expr otherwise) implements Expr {
        @Override
        public Object eval(Scope scope) {
            if (Values.truthy(test.eval(scope))) return then.eval(scope);
            return otherwise == null ? Values.UNDEFINED : otherwise.eval(scope);
        }
    }

    /** {@code value | name(args)}. */
    record Filter(Expr value, String name, List<Expr> args, Map<String, Expr> kwargs, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            return Builtins.filter(name, value.eval(scope), evalAll(args, scope), evalAll(kwargs, scope), line);
        }
    }

    /** {@code value is [not] name(args)}. */
    record Test(Expr value, String name, List<Expr> args, boolean negated, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            Object v = value.eval(scope);
            return negated != Builtins.test(name, v, evalAll(args, scope), line);
        }
    }

    /** A call: a global function, a namespace, or a Python method of a string, list or dict. */
    record Call(Expr callee, List<Expr> args, Map<String, Expr> kwargs, int line) implements Expr {
        @Override
        public Object eval(Scope scope) {
            List<Object> a = evalAll(args, scope);
            Map<String, Object> kw = evalAll(kwargs, scope);
            if (callee instanceof Get g && g.dotted() && g.key() instanceof Literal(String method)) {
                Object target = g.target().eval(scope);
                if (!(target instanceof Map<?, ?> m && m.containsKey(method))) return Builtins.method(target, method, a, kw, line);
            }
            Object f = callee.eval(scope);
            if (f instanceof Builtins.Function fn) return fn.call(a, kw, line);
            throw JinjaException.at(line, Values.typeName(f) + " object is not callable");
        }
    }

    static List<Object> evalAll(List<Expr> exprs, Scope scope) {
        var out = new ArrayList<>(exprs.size());
        for (Expr e : exprs) out.add(e.eval(scope));
        return out;
    }

    static Map<String, Object> evalAll(Map<String, Expr> exprs, Scope scope) {
        var out = new LinkedHashMap<String, Object>();
        for (var e : exprs.entrySet()) out.put(e.getKey(), e.getValue().eval(scope));
        return out;
    }
}

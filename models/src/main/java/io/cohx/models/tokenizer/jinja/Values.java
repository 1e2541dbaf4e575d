package io.cohx.models.tokenizer.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Python's value semantics as templates see them through jinja2: None is Java {@code null},
 * integers are {@link Long}, floats {@link Double}, lists {@link List}, dicts {@link Map}, and a
 * missing variable or key is {@link #UNDEFINED} (prints as nothing, is false, but fails when
 * used any further, as jinja2's default Undefined does).
 */
final class Values {

    private Values() {}

    /** jinja2's Undefined. */
    static final Object UNDEFINED = new Object() {
        @Override
        public String toString() {
            return "";
        }
    };

    static boolean truthy(Object v) {
        if (v == null || v == UNDEFINED) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof Double d) return d != 0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof Collection<?> c) return !c.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty() || v instanceof Builtins.Namespace;
        return true;
    }

    /** Python's {@code str()}. */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v == UNDEFINED) return "";
        if (v instanceof Collection<?> || v instanceof Map<?, ?> && !(v instanceof Builtins.Namespace)) return repr(v);
        return repr(v);
    }

    /** Python's {@code repr()}. */
    static String repr(Object v) {
        if (v == null) return "None";
        if (v == UNDEFINED) return "";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof Long l) return l.toString();
        if (v instanceof Double d) return floatRepr(d);
        if (v instanceof String s) {
            char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
            var sb = new StringBuilder().append(q);
            for (char c : s.toCharArray()) {
                switch (c) {
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    default -> {
                        if (c == q) sb.append('\\');
                        sb.append(c);
                    }
                }
            }
            return sb.append(q).toString();
        }
        if (v instanceof Builtins.Namespace) return "<Namespace>";
        if (v instanceof Map<?, ?> m) {
            var parts = new ArrayList<String>();
            for (var e : m.entrySet()) parts.add(repr(e.getKey()) + ": " + repr(e.getValue()));
            return "{" + String.join(", ", parts) + "}";
        }
        if (v instanceof Collection<?> c) {
            var parts = new ArrayList<String>();
            for (Object o : c) parts.add(repr(o));
            return "[" + String.join(", ", parts) + "]";
        }
        return String.valueOf(v);
    }

    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        double a = Math.abs(d);
        if (a != 0 && (a < 1e-4 || a >= 1e16)) {
            String s = Double.toString(d).replace("E", "e"); // shortest digits, like Python's repr
            int e = s.indexOf('e');
            String mant = s.substring(0, e).replace(".0e", "e");
            if (mant.endsWith(".0")) mant = mant.substring(0, mant.length() - 2);
            int exp = Integer.parseInt(s.substring(e + 1));
            return mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        String plain = new BigDecimal(Double.toString(d)).toPlainString();
        return plain.contains(".") ? plain : plain + ".0";
    }

    static String typeName(Object v) {
        if (v == null) return "'NoneType'";
        if (v == UNDEFINED) return "undefined";
        if (v instanceof String) return "'str'";
        if (v instanceof Long) return "'int'";
        if (v instanceof Double) return "'float'";
        if (v instanceof Boolean) return "'bool'";
        if (v instanceof Map<?, ?>) return "'dict'";
        if (v instanceof Collection<?>) return "'list'";
        return "'" + v.getClass().getSimpleName() + "'";
    }

    static Object get(Object target, Object key, boolean dotted, int line) {
        if (target == UNDEFINED) {
            throw JinjaException.at(line, "cannot read " + (dotted ? "attribute '" + key + "'" : "item " + repr(key))
                    + " of an undefined value");
        }
        if (target instanceof Map<?, ?> m) return m.containsKey(key) ? m.get(key) : UNDEFINED;
        if (key instanceof Long || key instanceof Boolean) {
            long i = toLong(key);
            if (target instanceof List<?> l) {
                if (i < 0) i += l.size();
                return i >= 0 && i < l.size() ? l.get((int) i) : UNDEFINED;
            }
            if (target instanceof String s) {
                int n = s.codePointCount(0, s.length());
                if (i < 0) i += n;
                if (i < 0 || i >= n) return UNDEFINED;
                int at = s.offsetByCodePoints(0, (int) i);
                return new String(Character.toChars(s.codePointAt(at)));
            }
        }
        return UNDEFINED;
    }

    static Object slice(Object target, Object start, Object stop, Object step, int line) {
        long st = step == null ? 1 : toLong(step);
        if (st == 0) throw JinjaException.at(line, "slice step cannot be zero");
        List<Object> items;
        boolean isString = target instanceof String;
        if (target instanceof String s) {
            items = new ArrayList<>();
            s.codePoints().forEach(cp -> items.add(new String(Character.toChars(cp))));
        } else if (target instanceof List<?> l) {
            items = new ArrayList<>(l);
        } else {
            throw JinjaException.at(line, "cannot slice " + typeName(target));
        }
        int n = items.size();
        long a;
        long b;
        if (st > 0) {
            a = start == null ? 0 : clamp(toLong(start), n, 0, n);
            b = stop == null ? n : clamp(toLong(stop), n, 0, n);
        } else {
            a = start == null ? n - 1 : clamp(toLong(start), n, -1, n - 1);
            b = stop == null ? -1 : clamp(toLong(stop), n, -1, n - 1);
        }
        var out = new ArrayList<>();
        for (long i = a; st > 0 ? i < b : i > b; i += st) out.add(items.get((int) i));
        if (!isString) return out;
        var sb = new StringBuilder();
        for (Object o : out) sb.append(o);
        return sb.toString();
    }

    private static long clamp(long i, int n, long lo, long hi) {
        if (i < 0) i += n;
        return Math.max(lo, Math.min(hi, i));
    }

    static long toLong(Object v) {
        if (v instanceof Long l) return l;
        if (v instanceof Boolean b) return b ? 1 : 0;
        if (v instanceof Double d) return (long) (double) d;
        throw new JinjaException("expected an integer, got " + typeName(v));
    }

    private static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    private static double toDouble(Object v) {
        return v instanceof Double d ? d : toLong(v);
    }

    static boolean equal(Object a, Object b) {
        if (isNumber(a) && isNumber(b)) {
            return a instanceof Double || b instanceof Double ? toDouble(a) == toDouble(b) : toLong(a) == toLong(b);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if (x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!equal(x.get(i), y.get(i))) return false;
            return true;
        }
        return Objects.equals(a, b);
    }

    static boolean contains(Object container, Object item, int line) {
        if (container instanceof String s) {
            if (!(item instanceof String t)) throw JinjaException.at(line, "'in <string>' needs a string, not " + typeName(item));
            return s.contains(t);
        }
        if (container instanceof Map<?, ?> m) return m.containsKey(item);
        if (container instanceof Collection<?> c) {
            for (Object o : c) if (equal(o, item)) return true;
            return false;
        }
        if (container == UNDEFINED) throw JinjaException.at(line, "'in' on an undefined value");
        throw JinjaException.at(line, "argument of type " + typeName(container) + " is not iterable");
    }

    static Object binary(String op, Object a, Object b, int line) {
        switch (op) {
            case "==" -> {
                return equal(a, b);
            }
            case "!=" -> {
                return !equal(a, b);
            }
            case "in" -> {
                return contains(b, a, line);
            }
            case "not in" -> {
                return !contains(b, a, line);
            }
            case "~" -> {
                return str(a) + str(b);
            }
            default -> { }
        }
        if (a == UNDEFINED || b == UNDEFINED) throw JinjaException.at(line, "'" + op + "' on an undefined value");
        if (op.equals("<") || op.equals(">") || op.equals("<=") || op.equals(">=")) {
            int c;
            if (isNumber(a) && isNumber(b)) c = Double.compare(toDouble(a), toDouble(b));
            else if (a instanceof String x && b instanceof String y) c = x.compareTo(y);
            else throw JinjaException.at(line, "'" + op + "' not supported between " + typeName(a) + " and " + typeName(b));
            return switch (op) {
                case "<" -> c < 0;
                case ">" -> c > 0;
                case "<=" -> c <= 0;
                default -> c >= 0;
            };
        }
        if (op.equals("+")) {
            if (a instanceof String x && b instanceof String y) return x + y;
            if (a instanceof List<?> x && b instanceof List<?> y) {
                var out = new ArrayList<Object>(x);
                out.addAll(y);
                return out;
            }
        }
        if (op.equals("*")) {
            if (a instanceof String s && (b instanceof Long || b instanceof Boolean)) return s.repeat((int) Math.max(0, toLong(b)));
            if (b instanceof String s && (a instanceof Long || a instanceof Boolean)) return s.repeat((int) Math.max(0, toLong(a)));
        }
        if (!isNumber(a) || !isNumber(b)) {
            throw JinjaException.at(line, "unsupported operand types for " + op + ": " + typeName(a) + " and " + typeName(b));
        }
        boolean floats = a instanceof Double || b instanceof Double;
        switch (op) {
            case "+" -> {
                return floats ? (Object) (toDouble(a) + toDouble(b)) : (Object) (toLong(a) + toLong(b));
            }
            case "-" -> {
                return floats ? (Object) (toDouble(a) - toDouble(b)) : (Object) (toLong(a) - toLong(b));
            }
            case "*" -> {
                return floats ? (Object) (toDouble(a) * toDouble(b)) : (Object) (toLong(a) * toLong(b));
            }
            case "/" -> {
                if (toDouble(b) == 0) throw JinjaException.at(line, "division by zero");
                return toDouble(a) / toDouble(b);
            }
            case "//" -> {
                if (toDouble(b) == 0) throw JinjaException.at(line, "division by zero");
                return floats ? (Object) Math.floor(toDouble(a) / toDouble(b)) : (Object) Math.floorDiv(toLong(a), toLong(b));
            }
            case "%" -> {
                if (toDouble(b) == 0) throw JinjaException.at(line, "modulo by zero");
                if (floats) {
                    double x = toDouble(a);
                    double y = toDouble(b);
                    return x - y * Math.floor(x / y);
                }
                return Math.floorMod(toLong(a), toLong(b));
            }
            case "**" -> {
                return floats || toLong(b) < 0 ? (Object) Math.pow(toDouble(a), toDouble(b))
                        : (Object) (long) Math.pow(toLong(a), toLong(b));
            }
            default -> throw JinjaException.at(line, "unknown operator " + op);
        }
    }

    /** The items a for-loop walks: list elements, dict keys, string characters. */
    static List<Object> iterate(Object v, int line) {
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof Collection<?> c) return new ArrayList<>(c);
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) return new ArrayList<>(s.codePoints().mapToObj(cp -> new String(Character.toChars(cp))).toList());
        if (v == UNDEFINED) return List.of();
        throw JinjaException.at(line, typeName(v) + " object is not iterable");
    }

    /** Python's str.isspace for one character. */
    static boolean isSpace(int cp) {
        return Character.isWhitespace(cp) || cp == 0xA0 || cp == 0x2007 || cp == 0x202F || cp == 0x85;
    }
}

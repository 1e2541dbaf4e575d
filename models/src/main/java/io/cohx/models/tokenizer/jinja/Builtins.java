package io.cohx.models.tokenizer.jinja;

import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The globals, filters, tests and Python methods chat templates use, with jinja2's and Python's
 * behaviour (and Hugging Face's {@code tojson}, {@code raise_exception}, {@code strftime_now}).
 * Anything else is an error that names the template line and the missing function.
 */
final class Builtins {

    private Builtins() {}

    @FunctionalInterface
    interface Function {
        Object call(List<Object> args, Map<String, Object> kwargs, int line);
    }

    /** jinja2's {@code namespace(...)}: the one object a template may change, to carry values out of loops. */
    static final class Namespace extends LinkedHashMap<Object, Object> {}

    static Object global(String name) {
        return switch (name) {
            case "raise_exception" -> (Function) (a, kw, line) -> {
                throw JinjaException.at(line, "the template raised: " + (a.isEmpty() ? "" : Values.str(a.getFirst())));
            };
            case "namespace" -> (Function) (a, kw, line) -> {
                var ns = new Namespace();
                if (!a.isEmpty() && a.getFirst() instanceof Map<?, ?> m) ns.putAll(m);
                ns.putAll(kw);
                return ns;
            };
            case "range" -> (Function) (a, kw, line) -> {
                long start = a.size() > 1 ? Values.toLong(a.get(0)) : 0;
                long stop = Values.toLong(a.size() > 1 ? a.get(1) : a.getFirst());
                long step = a.size() > 2 ? Values.toLong(a.get(2)) : 1;
                var out = new ArrayList<Object>();
                for (long i = start; step > 0 ? i < stop : i > stop; i += step) out.add(i);
                return out;
            };
            case "dict" -> (Function) (a, kw, line) -> new LinkedHashMap<Object, Object>(kw);
            case "strftime_now" -> (Function) (a, kw, line) -> strftime(Values.str(a.getFirst()), LocalDateTime.now());
            default -> Values.UNDEFINED;
        };
    }

    static Object filter(String name, Object v, List<Object> a, Map<String, Object> kw, int line) {
        switch (name) {
            case "trim" -> {
                return strip(str(v, name, line), a.isEmpty() ? null : (String) a.getFirst(), true, true);
            }
            case "length", "count" -> {
                if (v instanceof String s) return (long) s.codePointCount(0, s.length());
                if (v instanceof Collection<?> c) return (long) c.size();
                if (v instanceof Map<?, ?> m) return (long) m.size();
                throw JinjaException.at(line, "length of " + Values.typeName(v));
            }
            case "tojson" -> {
                Object indent = kw.getOrDefault("indent", a.isEmpty() ? null : a.getFirst());
                var sb = new StringBuilder();
                Json.write(v, indent == null ? -1 : (int) Values.toLong(indent), 0, sb, line);
                return sb.toString();
            }
            case "upper" -> {
                return str(v, name, line).toUpperCase(Locale.ROOT);
            }
            case "lower" -> {
                return str(v, name, line).toLowerCase(Locale.ROOT);
            }
            case "capitalize" -> {
                String s = str(v, name, line);
                return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            }
            case "default", "d" -> {
                Object dflt = a.isEmpty() ? "" : a.getFirst();
                boolean bool = a.size() > 1 && Values.truthy(a.get(1)) || Values.truthy(kw.get("boolean"));
                return v == Values.UNDEFINED || (bool && !Values.truthy(v)) ? dflt : v;
            }
            case "join" -> {
                String sep = a.isEmpty() ? "" : Values.str(a.getFirst());
                var parts = new ArrayList<String>();
                for (Object o : Values.iterate(v, line)) parts.add(Values.str(o));
                return String.join(sep, parts);
            }
            case "first" -> {
                List<Object> l = Values.iterate(v, line);
                return l.isEmpty() ? Values.UNDEFINED : l.getFirst();
            }
            case "last" -> {
                List<Object> l = Values.iterate(v, line);
                return l.isEmpty() ? Values.UNDEFINED : l.getLast();
            }
            case "list" -> {
                return Values.iterate(v, line);
            }
            case "reverse" -> {
                if (v instanceof String s) return new StringBuilder(s).reverse().toString();
                var l = Values.iterate(v, line);
                java.util.Collections.reverse(l);
                return l;
            }
            case "string" -> {
                return Values.str(v);
            }
            case "int" -> {
                if (v instanceof String s) {
                    try {
                        return Long.parseLong(s.strip());
                    } catch (NumberFormatException e) {
                        return 0L;
                    }
                }
                return v instanceof Long || v instanceof Double || v instanceof Boolean ? Values.toLong(v) : 0L;
            }
            case "items" -> {
                var out = new ArrayList<Object>();
                if (v instanceof Map<?, ?> m) for (var e : m.entrySet()) out.add(List.of(e.getKey(), e.getValue()));
                return out;
            }
            case "replace" -> {
                return str(v, name, line).replace(Values.str(a.get(0)), Values.str(a.get(1)));
            }
            case "safe", "e", "escape" -> {
                if (!name.equals("safe")) throw JinjaException.at(line, "filter '" + name + "' (HTML escaping) is not supported");
                return v;
            }
            case "map" -> {
                Object attr = kw.get("attribute");
                var out = new ArrayList<Object>();
                for (Object o : Values.iterate(v, line)) {
                    out.add(attr != null ? Values.get(o, attr, true, line) : filter(Values.str(a.getFirst()), o, List.of(), Map.of(), line));
                }
                return out;
            }
            case "selectattr", "rejectattr" -> {
                var out = new ArrayList<Object>();
                for (Object o : Values.iterate(v, line)) {
                    Object attr = Values.get(o, a.getFirst(), true, line);
                    boolean ok = a.size() < 2 ? Values.truthy(attr) : test(Values.str(a.get(1)), attr, a.subList(2, a.size()), line);
                    if (ok == name.equals("selectattr")) out.add(o);
                }
                return out;
            }
            default -> throw JinjaException.at(line, "filter '" + name + "' is not supported by cohx's chat templates");
        }
    }

    static boolean test(String name, Object v, List<Object> a, int line) {
        return switch (name) {
            case "defined" -> v != Values.UNDEFINED;
            case "undefined" -> v == Values.UNDEFINED;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> v instanceof Long || v instanceof Double;
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map<?, ?>;
            case "sequence", "iterable" -> v instanceof Collection<?> || v instanceof String || v instanceof Map<?, ?>;
            case "even" -> Values.toLong(v) % 2 == 0;
            case "odd" -> Values.toLong(v) % 2 != 0;
            case "divisibleby" -> Values.toLong(v) % Values.toLong(a.getFirst()) == 0;
            case "equalto", "eq", "==", "sameas" -> Values.equal(v, a.getFirst());
            case "ne", "!=" -> !Values.equal(v, a.getFirst());
            case "in" -> Values.contains(a.getFirst(), v, line);
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(Locale.ROOT));
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(Locale.ROOT));
            default -> throw JinjaException.at(line, "test '" + name + "' is not supported by cohx's chat templates");
        };
    }

    /** Python methods of str, dict and list that templates call. */
    static Object method(Object target, String name, List<Object> a, Map<String, Object> kw, int line) {
        if (target == Values.UNDEFINED) throw JinjaException.at(line, "cannot call '" + name + "' on an undefined value");
        if (target instanceof String s) {
            switch (name) {
                case "strip", "lstrip", "rstrip" -> {
                    String chars = a.isEmpty() || a.getFirst() == null ? null : Values.str(a.getFirst());
                    return strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
                }
                case "startswith", "endswith" -> {
                    List<Object> options = a.getFirst() instanceof List<?> l ? new ArrayList<>(l) : List.of(a.getFirst());
                    for (Object o : options) {
                        String p = Values.str(o);
                        if (name.equals("startswith") ? s.startsWith(p) : s.endsWith(p)) return true;
                    }
                    return false;
                }
                case "split", "rsplit" -> {
                    Object sep = a.isEmpty() ? kw.get("sep") : a.getFirst();
                    long max = a.size() > 1 ? Values.toLong(a.get(1)) : kw.containsKey("maxsplit") ? Values.toLong(kw.get("maxsplit")) : -1;
                    if (name.equals("rsplit") && max >= 0) throw JinjaException.at(line, "rsplit with maxsplit is not supported");
                    return split(s, sep == null ? null : Values.str(sep), max, line);
                }
                case "upper" -> {
                    return s.toUpperCase(Locale.ROOT);
                }
                case "lower" -> {
                    return s.toLowerCase(Locale.ROOT);
                }
                case "title" -> {
                    return title(s);
                }
                case "capitalize" -> {
                    return filter("capitalize", s, List.of(), Map.of(), line);
                }
                case "replace" -> {
                    return s.replace(Values.str(a.get(0)), Values.str(a.get(1)));
                }
                case "find" -> {
                    return (long) s.indexOf(Values.str(a.getFirst()));
                }
                case "count" -> {
                    String p = Values.str(a.getFirst());
                    long n = 0;
                    for (int i = s.indexOf(p); i >= 0 && !p.isEmpty(); i = s.indexOf(p, i + p.length())) n++;
                    return n;
                }
                case "join" -> {
                    return filter("join", a.getFirst(), List.of(s), Map.of(), line);
                }
                default -> { }
            }
        }
        if (target instanceof Map<?, ?> m) {
            switch (name) {
                case "items" -> {
                    return filter("items", m, List.of(), Map.of(), line);
                }
                case "keys" -> {
                    return new ArrayList<Object>(m.keySet());
                }
                case "values" -> {
                    return new ArrayList<Object>(m.values());
                }
                case "get" -> {
                    Object k = a.getFirst();
                    return m.containsKey(k) ? m.get(k) : a.size() > 1 ? a.get(1) : null;
                }
                default -> { }
            }
        }
        throw JinjaException.at(line, Values.typeName(target) + " has no method '" + name + "' that cohx's chat templates support");
    }

    private static String str(Object v, String filter, int line) {
        if (v == Values.UNDEFINED) throw JinjaException.at(line, "filter '" + filter + "' on an undefined value");
        return Values.str(v);
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0;
        int b = s.length();
        while (left && a < b && stripped(s.codePointAt(a), chars)) a += Character.charCount(s.codePointAt(a));
        while (right && b > a && stripped(s.codePointBefore(b), chars)) b -= Character.charCount(s.codePointBefore(b));
        return s.substring(a, b);
    }

    private static boolean stripped(int cp, String chars) {
        return chars == null ? Values.isSpace(cp) : chars.indexOf(cp) >= 0;
    }

    private static List<Object> split(String s, String sep, long max, int line) {
        var out = new ArrayList<Object>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && Values.isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
                if (i >= n) break;
                if (max >= 0 && out.size() == max) {
                    out.add(strip(s.substring(i), null, false, true));
                    break;
                }
                int j = i;
                while (j < n && !Values.isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
                out.add(s.substring(i, j));
                i = j;
            }
            return out;
        }
        if (sep.isEmpty()) throw JinjaException.at(line, "empty separator");
        int from = 0;
        while (max < 0 || out.size() < max) {
            int at = s.indexOf(sep, from);
            if (at < 0) break;
            out.add(s.substring(from, at));
            from = at + sep.length();
        }
        out.add(s.substring(from));
        return out;
    }

    private static String title(String s) {
        var sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            sb.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            prevCased = Character.isLetter(cp);
            i += Character.charCount(cp);
        }
        return sb.toString();
    }

    private static String strftime(String fmt, LocalDateTime t) {
        var sb = new StringBuilder();
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 == fmt.length()) {
                sb.append(c);
                continue;
            }
            char f = fmt.charAt(++i);
            sb.append(switch (f) {
                case 'd' -> String.format("%02d", t.getDayOfMonth());
                case 'm' -> String.format("%02d", t.getMonthValue());
                case 'Y' -> String.valueOf(t.getYear());
                case 'y' -> String.format("%02d", t.getYear() % 100);
                case 'b' -> t.format(DateTimeFormatter.ofPattern("MMM", Locale.ENGLISH));
                case 'B' -> t.format(DateTimeFormatter.ofPattern("MMMM", Locale.ENGLISH));
                case 'H' -> String.format("%02d", t.getHour());
                case 'M' -> String.format("%02d", t.getMinute());
                case 'S' -> String.format("%02d", t.getSecond());
                case '%' -> "%";
                default -> "%" + f;
            });
        }
        return sb.toString();
    }

    /** Hugging Face's {@code tojson}: Python's json.dumps with ensure_ascii off and its default separators. */
    private static final class Json {
        static void write(Object v, int indent, int depth, StringBuilder sb, int line) {
            if (v == null || v == Values.UNDEFINED) {
                if (v == Values.UNDEFINED) throw JinjaException.at(line, "tojson of an undefined value");
                sb.append("null");
            } else if (v instanceof Boolean b) {
                sb.append(b ? "true" : "false");
            } else if (v instanceof Long l) {
                sb.append(l);
            } else if (v instanceof Double d) {
                sb.append(Double.isNaN(d) ? "NaN" : Double.isInfinite(d) ? (d > 0 ? "Infinity" : "-Infinity") : Values.floatRepr(d));
            } else if (v instanceof String s) {
                string(s, sb);
            } else if (v instanceof Map<?, ?> m) {
                sb.append('{');
                int i = 0;
                for (var e : m.entrySet()) {
                    sb.append(i++ == 0 ? "" : indent >= 0 ? "," : ", ");
                    newline(indent, depth + 1, sb);
                    string(Values.str(e.getKey()), sb);
                    sb.append(": ");
                    write(e.getValue(), indent, depth + 1, sb, line);
                }
                if (!m.isEmpty()) newline(indent, depth, sb);
                sb.append('}');
            } else if (v instanceof Collection<?> c) {
                sb.append('[');
                int i = 0;
                for (Object o : c) {
                    sb.append(i++ == 0 ? "" : indent >= 0 ? "," : ", ");
                    newline(indent, depth + 1, sb);
                    write(o, indent, depth + 1, sb, line);
                }
                if (!c.isEmpty()) newline(indent, depth, sb);
                sb.append(']');
            } else {
                throw JinjaException.at(line, "tojson of " + Values.typeName(v));
            }
        }

        private static void newline(int indent, int depth, StringBuilder sb) {
            if (indent < 0) return;
            sb.append('\n').append(" ".repeat(indent * depth));
        }

        private static void string(String s, StringBuilder sb) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                    }
                }
            }
            sb.append('"');
        }
    }
}

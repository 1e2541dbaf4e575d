package io.cohx.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * An ordered mapping from dotted paths ({@code layers.3.attention.wq}) to values: the parameter
 * trees that functions take and return. The order is insertion order and is part of a compiled
 * program's signature. Immutable; {@link #with} and {@link #nest} return new trees.
 */
public final class Tree<T> {
    private static final Pattern PATH = Pattern.compile("[A-Za-z0-9_\\-]+(\\.[A-Za-z0-9_\\-]+)*");
    private static final Tree<?> EMPTY = new Tree<>(new LinkedHashMap<>());

    private final LinkedHashMap<String, T> map;

    private Tree(LinkedHashMap<String, T> map) {
        this.map = map;
    }

    @SuppressWarnings("unchecked")
    public static <T> Tree<T> empty() {
        return (Tree<T>) EMPTY;
    }

    public static <T> Tree<T> of(String path, T value) {
        return Tree.<T>empty().with(path, value);
    }

    public static <T> Tree<T> of(String p1, T v1, String p2, T v2) {
        return of(p1, v1).with(p2, v2);
    }

    public static <T> Tree<T> of(String p1, T v1, String p2, T v2, String p3, T v3) {
        return of(p1, v1, p2, v2).with(p3, v3);
    }

    public static <T> Tree<T> of(List<String> paths, List<T> values) {
        if (paths.size() != values.size()) {
            throw new EngineException("tree: " + paths.size() + " paths but " + values.size() + " values");
        }
        var m = new LinkedHashMap<String, T>();
        for (int i = 0; i < paths.size(); i++) {
            check(paths.get(i));
            if (m.put(paths.get(i), values.get(i)) != null) {
                throw new EngineException("tree: path '" + paths.get(i) + "' appears twice");
            }
        }
        return new Tree<>(m);
    }

    public static <T> Tree<T> of(Map<String, T> entries) {
        return of(new ArrayList<>(entries.keySet()), new ArrayList<>(entries.values()));
    }

    private static void check(String path) {
        if (!PATH.matcher(path).matches()) {
            throw new EngineException("tree: bad path '" + path + "': use dot-separated names of letters, digits, '_' or '-'");
        }
    }

    /** This tree plus (or with a replaced) {@code path}. */
    public Tree<T> with(String path, T value) {
        check(path);
        var m = new LinkedHashMap<>(map);
        m.put(path, value);
        return new Tree<>(m);
    }

    /** Every entry of {@code sub} under {@code prefix.}; replaces what was there. */
    public Tree<T> nest(String prefix, Tree<? extends T> sub) {
        check(prefix);
        var m = new LinkedHashMap<String, T>();
        map.forEach((k, v) -> {
            if (!k.equals(prefix) && !k.startsWith(prefix + ".")) {
                m.put(k, v);
            }
        });
        sub.map.forEach((k, v) -> m.put(prefix + "." + k, v));
        return new Tree<>(m);
    }

    /** The value at {@code path}; an error listing nearby paths if there is none. */
    public T get(String path) {
        T v = map.get(path);
        if (v == null) {
            throw new EngineException("tree has no path '" + path + "'; it has " + preview());
        }
        return v;
    }

    public boolean has(String path) {
        return map.containsKey(path);
    }

    /** The entries under {@code prefix.}, with the prefix removed. */
    public Tree<T> subtree(String prefix) {
        var m = new LinkedHashMap<String, T>();
        String p = prefix + ".";
        map.forEach((k, v) -> {
            if (k.startsWith(p)) {
                m.put(k.substring(p.length()), v);
            }
        });
        if (m.isEmpty()) {
            throw new EngineException("tree has nothing under '" + prefix + "'; it has " + preview());
        }
        return new Tree<>(m);
    }

    public List<String> paths() {
        return List.copyOf(map.keySet());
    }

    public List<T> values() {
        return Collections.unmodifiableList(new ArrayList<>(map.values()));
    }

    public int size() {
        return map.size();
    }

    public <R> Tree<R> map(Function<? super T, ? extends R> f) {
        var m = new LinkedHashMap<String, R>();
        map.forEach((k, v) -> m.put(k, f.apply(v)));
        return new Tree<>(m);
    }

    public <R> Tree<R> mapWithPath(BiFunction<String, ? super T, ? extends R> f) {
        var m = new LinkedHashMap<String, R>();
        map.forEach((k, v) -> m.put(k, f.apply(k, v)));
        return new Tree<>(m);
    }

    /** Combines two trees with the same paths (e.g. params and grads in an optimizer). */
    public <U, R> Tree<R> zip(Tree<U> other, BiFunction<? super T, ? super U, ? extends R> f) {
        if (!map.keySet().equals(other.map.keySet())) {
            throw new EngineException("tree: zip needs the same paths; " + preview() + " vs " + other.preview());
        }
        var m = new LinkedHashMap<String, R>();
        map.forEach((k, v) -> m.put(k, f.apply(v, other.map.get(k))));
        return new Tree<>(m);
    }

    private String preview() {
        List<String> p = paths();
        return p.size() <= 8 ? p.toString() : p.subList(0, 8) + " and " + (p.size() - 8) + " more";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tree<?> t && map.equals(t.map) && paths().equals(t.paths());
    }

    @Override
    public int hashCode() {
        return map.hashCode();
    }

    @Override
    public String toString() {
        return map.toString();
    }
}

package io.cohx.engine;

import java.security.CodeSource;

/**
 * Finds the Java line that called into the engine: the first stack frame whose class is not part
 * of the engine's own code (nor the JDK). Classes are told apart by where they were loaded from,
 * so tests that live in the engine's package still count as callers.
 */
final class CallSite {
    private CallSite() {}

    private static final String ENGINE_LOCATION = location(CallSite.class);
    private static final StackWalker WALKER = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private static String location(Class<?> c) {
        CodeSource cs = c.getProtectionDomain().getCodeSource();
        return cs == null || cs.getLocation() == null ? "" : cs.getLocation().toString();
    }

    /** {@code lambda$train$3} → {@code train} (a lambda inside train). */
    private static String readable(String method) {
        if (method.startsWith("lambda$")) {
            String[] parts = method.split("\\$");
            return parts.length > 1 ? parts[1] + "/lambda" : method;
        }
        return method;
    }

    static String find() {
        return WALKER.walk(frames -> frames
                .filter(f -> {
                    Class<?> c = f.getDeclaringClass();
                    String n = c.getName();
                    if (n.startsWith("java.") || n.startsWith("jdk.") || n.startsWith("sun.")) {
                        return false;
                    }
                    return !(n.startsWith("io.cohx.engine.") && location(c).equals(ENGINE_LOCATION));
                })
                .findFirst()
                .map(f -> f.getClassName() + "." + readable(f.getMethodName()) + "(" + f.getFileName() + ":" + f.getLineNumber() + ")")
                .orElse("unknown caller"));
    }
}

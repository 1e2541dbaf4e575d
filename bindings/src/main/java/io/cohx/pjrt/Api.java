package io.cohx.pjrt;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One loaded {@code PJRT_Api} function table: looks up function pointers by name (checking the
 * slot exists in this plugin's version), calls them, and turns a returned {@code PJRT_Error*}
 * into a {@link PjrtException}, always destroying the error. Thread-safe.
 */
final class Api {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor ERROR_FN = FunctionDescriptor.of(ADDRESS, ADDRESS);
    private static final FunctionDescriptor VOID_FN = FunctionDescriptor.ofVoid(ADDRESS);

    final MemorySegment table;
    final long tableSize;
    final int major;
    final int minor;
    private final String pluginName;
    private final ConcurrentHashMap<String, MethodHandle> handles = new ConcurrentHashMap<>();

    Api(MemorySegment apiPointer, String pluginName) {
        this.pluginName = pluginName;
        long size = apiPointer.reinterpret(8).get(JAVA_LONG, 0);
        this.table = apiPointer.reinterpret(size);
        this.tableSize = size;
        long v = Structs.API.off("pjrt_api_version");
        this.major = table.get(JAVA_INT, v + Structs.API_VERSION.off("major_version"));
        this.minor = table.get(JAVA_INT, v + Structs.API_VERSION.off("minor_version"));
    }

    /** True if this plugin's table has the function and it is not NULL. */
    boolean has(String function) {
        long off = Structs.API.off(function);
        return off + 8 <= tableSize && !table.get(ADDRESS, off).equals(MemorySegment.NULL);
    }

    private MethodHandle handle(String function, boolean returnsError) {
        return handles.computeIfAbsent(function, f -> {
            if (!has(f)) {
                throw new PjrtException(ErrorCode.UNIMPLEMENTED, pluginName + " (PJRT C API " + major + "." + minor
                        + ") does not provide " + f + "; use a newer plugin (cohx plugins install NAME)");
            }
            MemorySegment fn = table.get(ADDRESS, Structs.API.off(f));
            return LINKER.downcallHandle(fn, returnsError ? ERROR_FN : VOID_FN);
        });
    }

    /** Calls {@code function(args)} and throws if it returns an error. */
    void call(String function, MemorySegment args) {
        MemorySegment error;
        try {
            error = (MemorySegment) handle(function, true).invokeExact(args);
        } catch (PjrtException e) {
            throw e;
        } catch (Throwable t) {
            throw new PjrtException(ErrorCode.INTERNAL, "calling " + function + " failed: " + t, t);
        }
        if (!error.equals(MemorySegment.NULL)) {
            throw consumeError(error, function);
        }
    }

    /** Reads code and message of {@code error}, destroys it, and returns the exception. */
    PjrtException consumeError(MemorySegment error, String context) {
        try (Arena arena = Arena.ofConfined()) {
            String message;
            ErrorCode code;
            MemorySegment m = args(arena, Structs.ERROR_MESSAGE);
            m.set(ADDRESS, Structs.ERROR_MESSAGE.off("error"), error);
            invokeVoid("PJRT_Error_Message", m);
            MemorySegment text = m.get(ADDRESS, Structs.ERROR_MESSAGE.off("message"));
            long len = m.get(JAVA_LONG, Structs.ERROR_MESSAGE.off("message_size"));
            message = string(text, len);
            MemorySegment c = args(arena, Structs.ERROR_GET_CODE);
            c.set(ADDRESS, Structs.ERROR_GET_CODE.off("error"), error);
            MemorySegment codeError = (MemorySegment) handle("PJRT_Error_GetCode", true).invokeExact(c);
            code = codeError.equals(MemorySegment.NULL) ? ErrorCode.of(c.get(JAVA_INT, Structs.ERROR_GET_CODE.off("code"))) : ErrorCode.UNKNOWN;
            destroyError(error);
            return new PjrtException(code, context + ": " + code + ": " + message);
        } catch (Throwable t) {
            return new PjrtException(ErrorCode.INTERNAL, context + ": (error message unreadable: " + t + ")", t);
        }
    }

    void destroyError(MemorySegment error) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = args(arena, Structs.ERROR_DESTROY);
            d.set(ADDRESS, Structs.ERROR_DESTROY.off("error"), error);
            invokeVoid("PJRT_Error_Destroy", d);
        }
    }

    private void invokeVoid(String function, MemorySegment args) {
        try {
            handle(function, false).invokeExact(args);
        } catch (Throwable t) {
            throw new PjrtException(ErrorCode.INTERNAL, "calling " + function + " failed: " + t, t);
        }
    }

    /** A zeroed args struct with its {@code struct_size} set. */
    static MemorySegment args(Arena arena, Struct s) {
        MemorySegment seg = arena.allocate(Math.max(s.size(), 8), 8);
        seg.set(JAVA_LONG, 0, s.size());
        return seg;
    }

    static String string(MemorySegment ptr, long len) {
        if (ptr.equals(MemorySegment.NULL) || len == 0) {
            return "";
        }
        return new String(ptr.reinterpret(len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}

package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_Api;
import io.cohx.pjrt.capi.PJRT_Api_Version;
import io.cohx.pjrt.capi.PJRT_Error_Destroy_Args;
import io.cohx.pjrt.capi.PJRT_Error_GetCode_Args;
import io.cohx.pjrt.capi.PJRT_Error_Message_Args;
import io.cohx.pjrt.capi.PjrtCApi;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;

/**
 * One loaded {@code PJRT_Api} function table, driven through the jextract-generated layouts of
 * {@link io.cohx.pjrt.capi}: finds function pointers by name (checking the slot exists in this
 * plugin's version), allocates argument structs, calls, and turns a returned {@code PJRT_Error*}
 * into a {@link PjrtException}, always destroying the error. Thread-safe.
 *
 * <p><b>Struct sizes across versions.</b> Every argument struct carries {@code struct_size}, the
 * header's {@code *_STRUCT_SIZE} for the fields the caller knows. The generated layouts are those
 * of the header in the pinned CPU wheel ({@link #BOUND_MINOR}). A plugin of that version or older
 * accepts them (an older one reads only the fields it knows, so cohx sends it zeros for nothing
 * it needs). XLA plugins built from a newer header reject a {@code struct_size} smaller than their
 * own ("Unexpected PJRT_ExecuteOptions size: expected 144, got 112"). The C API only ever appends
 * fields, and a zero field means "not set" (NULL, 0, false), so for a plugin newer than the
 * header every argument struct gets {@link #FORWARD_RESERVE} zero bytes after the fields cohx
 * knows, counted in its {@code struct_size}: the plugin reads its newer fields as unset.
 */
final class Api {
    /** PJRT C API version of the header the generated layouts were made from. */
    static final int BOUND_MAJOR = PjrtCApi.PJRT_API_MAJOR();
    static final int BOUND_MINOR = PjrtCApi.PJRT_API_MINOR();
    /**
     * Zero bytes appended to argument structs for plugins newer than the header. Between 0.81 and
     * 0.114 the largest growth of a struct cohx sends was 32 bytes; 256 leaves ample room.
     */
    static final long FORWARD_RESERVE = 256;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final FunctionDescriptor ERROR_FN = FunctionDescriptor.of(ADDRESS, ADDRESS);
    private static final FunctionDescriptor VOID_FN = FunctionDescriptor.ofVoid(ADDRESS);

    final MemorySegment table;
    final long tableSize;
    final int major;
    final int minor;
    private final long reserve;
    private final String pluginName;
    private final ConcurrentHashMap<String, MethodHandle> handles = new ConcurrentHashMap<>();

    /**
     * {@code apiPointer} is the table {@code GetPjrtApi} returned, at least its version prefix
     * long. {@code reserve} overrides the forward reserve when not null (tests drive a plugin as if
     * it were newer than the header).
     */
    Api(MemorySegment apiPointer, String pluginName, Long reserve) {
        this.pluginName = pluginName;
        long size = PJRT_Api.struct_size(apiPointer.reinterpret(ADDRESS.byteSize()));
        this.table = apiPointer.reinterpret(size);
        this.tableSize = size;
        MemorySegment version = PJRT_Api.pjrt_api_version(table);
        this.major = PJRT_Api_Version.major_version(version);
        this.minor = PJRT_Api_Version.minor_version(version);
        this.reserve = reserve != null ? reserve : minor > BOUND_MINOR ? FORWARD_RESERVE : 0;
    }

    /** Zero bytes this plugin gets after each argument struct (0 unless it is newer than the header). */
    long forwardReserve() {
        return reserve;
    }

    /** Byte offset of {@code function}'s slot, from the generated {@code PJRT_Api} layout. */
    private static long slot(String function) {
        try {
            return PJRT_Api.layout().byteOffset(PathElement.groupElement(function));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("binding bug: PJRT_Api has no function '" + function + "'", e);
        }
    }

    /** True if this plugin's table has the function and it is not NULL. */
    boolean has(String function) {
        long off = slot(function);
        return off + ADDRESS.byteSize() <= tableSize && !table.get(ADDRESS, off).equals(MemorySegment.NULL);
    }

    private MethodHandle handle(String function, boolean returnsError) {
        return handles.computeIfAbsent(function, f -> {
            if (!has(f)) {
                throw new PjrtException(ErrorCode.UNIMPLEMENTED, pluginName + " (PJRT C API " + major + "." + minor
                        + ") does not provide " + f + "; use a newer plugin (cohx plugins install NAME)");
            }
            return LINKER.downcallHandle(table.get(ADDRESS, slot(f)), returnsError ? ERROR_FN : VOID_FN);
        });
    }

    /**
     * A zeroed argument struct of the generated {@code layout} with {@code struct_size} set to
     * {@code structSize} (the header's {@code *_STRUCT_SIZE}) plus this plugin's forward reserve.
     * Only for structs passed by pointer: arrays and embedded structs keep the header's stride.
     */
    MemorySegment args(Arena arena, GroupLayout layout, long structSize) {
        MemorySegment seg = arena.allocate(layout.byteSize() + reserve, layout.byteAlignment());
        // Every PJRT struct passed by pointer begins with `size_t struct_size`.
        seg.set(ValueLayout.JAVA_LONG, 0, structSize + reserve);
        return seg;
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
            MemorySegment m = args(arena, PJRT_Error_Message_Args.layout(), PjrtCApi.PJRT_Error_Message_Args_STRUCT_SIZE());
            PJRT_Error_Message_Args.error(m, error);
            invokeVoid("PJRT_Error_Message", m);
            String message = string(PJRT_Error_Message_Args.message(m), PJRT_Error_Message_Args.message_size(m));
            MemorySegment c = args(arena, PJRT_Error_GetCode_Args.layout(), PjrtCApi.PJRT_Error_GetCode_Args_STRUCT_SIZE());
            PJRT_Error_GetCode_Args.error(c, error);
            MemorySegment codeError = (MemorySegment) handle("PJRT_Error_GetCode", true).invokeExact(c);
            ErrorCode code = codeError.equals(MemorySegment.NULL) ? ErrorCode.of(PJRT_Error_GetCode_Args.code(c)) : ErrorCode.UNKNOWN;
            destroyError(error);
            return new PjrtException(code, context + ": " + code + ": " + message);
        } catch (Throwable t) {
            return new PjrtException(ErrorCode.INTERNAL, context + ": (error message unreadable: " + t + ")", t);
        }
    }

    void destroyError(MemorySegment error) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment d = args(arena, PJRT_Error_Destroy_Args.layout(), PjrtCApi.PJRT_Error_Destroy_Args_STRUCT_SIZE());
            PJRT_Error_Destroy_Args.error(d, error);
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

    /** A UTF-8 string the plugin returned as pointer and length (not NUL-terminated). */
    static String string(MemorySegment ptr, long len) {
        if (ptr.equals(MemorySegment.NULL) || len == 0) {
            return "";
        }
        return new String(ptr.reinterpret(len).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
    }
}

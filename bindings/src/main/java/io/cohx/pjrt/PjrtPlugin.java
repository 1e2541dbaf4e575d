package io.cohx.pjrt;

import io.cohx.pjrt.capi.PJRT_Api;
import io.cohx.pjrt.capi.PJRT_Api_Version;
import io.cohx.pjrt.capi.PJRT_Plugin_Attributes_Args;
import io.cohx.pjrt.capi.PJRT_Plugin_Initialize_Args;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Plugin_Attributes_Args_STRUCT_SIZE;
import static io.cohx.pjrt.capi.PjrtCApi.PJRT_Plugin_Initialize_Args_STRUCT_SIZE;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A PJRT plugin shared library, loaded once per canonical path and never unloaded (unloading
 * XLA plugins is unsafe). {@link #load} checks the file (exists, ELF, this machine's
 * architecture), calls {@code GetPjrtApi}, refuses a too-old API and initializes the plugin.
 * Thread-safe.
 */
public final class PjrtPlugin {
    /** Oldest PJRT C API minor version cohx drives (the CPU plugin is 0.81, CUDA and TPU 0.115). */
    public static final int MIN_MINOR_VERSION = 60;
    /**
     * Minor version of the header cohx's generated layouts come from (the one shipped in the
     * pinned CPU wheel). Newer plugins are fine: they get zero-filled room for the fields they
     * added (see {@code Api}).
     */
    public static final int BOUND_MINOR_VERSION = Api.BOUND_MINOR;

    private static final Map<Path, PjrtPlugin> LOADED = new ConcurrentHashMap<>();

    private final Path path;
    final Api api;
    private volatile Map<String, Object> attributes;

    private PjrtPlugin(Path path, Api api) {
        this.path = path;
        this.api = api;
    }

    /** Loads (or returns the already loaded) plugin at {@code library}. */
    public static PjrtPlugin load(Path library) {
        Path canonical;
        try {
            canonical = library.toRealPath();
        } catch (IOException e) {
            throw new PjrtException(ErrorCode.NOT_FOUND, "no PJRT plugin at " + library
                    + " (file not found). Install one with `cohx plugins install cpu` (or cuda12, cuda13, tpu).");
        }
        synchronized (LOADED) {
            PjrtPlugin p = LOADED.get(canonical);
            if (p == null) {
                p = open(canonical, null);
                LOADED.put(canonical, p);
            }
            return p;
        }
    }

    /**
     * Loads {@code library} as a separate instance (not cached, not shared) whose argument structs
     * carry {@code forwardReserve} zero bytes, as a plugin newer than cohx's header gets them. For
     * tests that check a real plugin accepts such structs; everything else uses {@link #load}.
     */
    static PjrtPlugin loadWithForwardReserve(Path library, long forwardReserve) {
        try {
            return open(library.toRealPath(), forwardReserve);
        } catch (IOException e) {
            throw new PjrtException(ErrorCode.NOT_FOUND, "no PJRT plugin at " + library);
        }
    }

    private static PjrtPlugin open(Path path, Long forwardReserve) {
        checkElf(path);
        setDefaultEnvironment();
        SymbolLookup lookup;
        try {
            lookup = SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new PjrtException(ErrorCode.FAILED_PRECONDITION, "cannot load PJRT plugin " + path + ": " + e.getMessage()
                    + ". The file may be truncated or corrupt, or a library it needs is missing; reinstall it with `cohx plugins install NAME`.", e);
        }
        MemorySegment getApi = lookup.find("GetPjrtApi").orElseThrow(() -> new PjrtException(ErrorCode.NOT_FOUND,
                path + " is a shared library but not a PJRT plugin: it exports no GetPjrtApi function."));
        MemorySegment apiPtr;
        try {
            MethodHandle h = Linker.nativeLinker().downcallHandle(getApi, FunctionDescriptor.of(ADDRESS));
            apiPtr = (MemorySegment) h.invokeExact();
        } catch (Throwable t) {
            throw new PjrtException(ErrorCode.INTERNAL, "GetPjrtApi of " + path + " failed: " + t, t);
        }
        if (apiPtr.equals(MemorySegment.NULL)) {
            throw new PjrtException(ErrorCode.INTERNAL, "GetPjrtApi of " + path + " returned NULL");
        }
        long size = PJRT_Api.struct_size(apiPtr.reinterpret(JAVA_LONG.byteSize()));
        if (size < PJRT_Api.pjrt_api_version$offset() + PJRT_Api_Version.sizeof()) {
            throw new PjrtException(ErrorCode.FAILED_PRECONDITION, path + ": PJRT_Api struct_size " + size + " is too small to be a PJRT plugin");
        }
        Api api = new Api(apiPtr, path.getFileName().toString(), forwardReserve);
        if (api.major != 0 || api.minor < MIN_MINOR_VERSION) {
            throw new PjrtException(ErrorCode.FAILED_PRECONDITION, path + " implements PJRT C API " + api.major + "." + api.minor
                    + ", but cohx needs 0." + MIN_MINOR_VERSION + " or newer (major 0). Install a newer plugin with `cohx plugins install NAME`.");
        }
        try (Arena arena = Arena.ofConfined()) {
            api.call("PJRT_Plugin_Initialize", api.args(arena, PJRT_Plugin_Initialize_Args.layout(), PJRT_Plugin_Initialize_Args_STRUCT_SIZE()));
        }
        return new PjrtPlugin(path, api);
    }

    /** Whether the user set PJRT_NPROC; if not, {@link #sizeThreadPool} sets it for each client. */
    private static final boolean USER_THREADS = System.getenv("PJRT_NPROC") != null;

    /**
     * Environment the plugins read: INFO logs off (XLA prints one per client otherwise; warnings
     * and errors stay), set before the first load unless the user set it.
     */
    private static void setDefaultEnvironment() {
        if (System.getenv("TF_CPP_MIN_LOG_LEVEL") == null) {
            setenv("TF_CPP_MIN_LOG_LEVEL", "1");
        }
    }

    /**
     * Sizes the thread pool of the next client (XLA's CPU client reads PJRT_NPROC when it is
     * created): one thread per core, as XLA would choose by itself, for a single device. Virtual
     * CPU devices that meet in collectives each hold a thread while they wait for the others, so
     * a client of N > 1 devices gets at least 2N. A larger pool than the cores on one device only
     * costs: on a 2-core machine a 16-thread pool made the 125m train step about 15% slower
     * (docs/MEMORY.md). Left alone when the user set PJRT_NPROC. Called under the client lock.
     */
    static void sizeThreadPool(long devices) {
        if (USER_THREADS) {
            return;
        }
        int cores = Runtime.getRuntime().availableProcessors();
        long threads = devices > 1 ? Math.max(cores, 2 * devices) : cores;
        setenv("PJRT_NPROC", Long.toString(threads));
    }

    private static void setenv(String name, String value) {
        try {
            var setenv = Linker.nativeLinker().downcallHandle(Linker.nativeLinker().defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(java.lang.foreign.ValueLayout.JAVA_INT, ADDRESS, ADDRESS, java.lang.foreign.ValueLayout.JAVA_INT));
            try (Arena arena = Arena.ofConfined()) {
                int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
                assert rc == 0;
            }
        } catch (Throwable t) {
            // Only cosmetic (log noise) or XLA's own pool size; loading goes on.
        }
    }

    /**
     * Checks the ELF headers before dlopen: a wrong or truncated file gets a clear message here,
     * where dlopen would give a cryptic one or, for a truncated file, crash the process when it
     * touches a segment past the end of the mapping.
     */
    private static void checkElf(Path path) {
        long fileSize;
        ByteBuffer head = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            fileSize = ch.size();
            while (head.hasRemaining() && ch.read(head) > 0) {
                // fill the ELF header
            }
            int n = head.position();
            if (n < 20 || head.get(0) != 0x7f || head.get(1) != 'E' || head.get(2) != 'L' || head.get(3) != 'F') {
                throw new PjrtException(ErrorCode.FAILED_PRECONDITION, path + " is not a shared library (no ELF header; "
                        + fileSize + " bytes). Point --plugin/COHX_PJRT_PLUGIN at the plugin's .so file, or reinstall with `cohx plugins install NAME`.");
            }
            int machine = head.getShort(18) & 0xffff;
            String fileArch = switch (machine) {
                case 62 -> "x86-64";
                case 183 -> "aarch64";
                default -> "ELF machine " + machine;
            };
            String arch = System.getProperty("os.arch").toLowerCase(Locale.ROOT);
            String hostArch = arch.equals("amd64") || arch.equals("x86_64") ? "x86-64" : arch.equals("aarch64") ? "aarch64" : arch;
            if (!fileArch.equals(hostArch)) {
                throw new PjrtException(ErrorCode.FAILED_PRECONDITION, path + " is a plugin for " + fileArch + " but this machine is "
                        + hostArch + "; install the plugin built for this machine.");
            }
            if (head.get(4) != 2 || head.get(5) != 1) {
                throw new PjrtException(ErrorCode.FAILED_PRECONDITION, path + " is not a 64-bit little-endian library; PJRT plugins are.");
            }
            if (n < 64) {
                throw truncated(path, 64, fileSize);
            }
            long phoff = head.getLong(32);
            long shoff = head.getLong(40);
            int phentsize = head.getShort(54) & 0xffff;
            int phnum = head.getShort(56) & 0xffff;
            int shentsize = head.getShort(58) & 0xffff;
            int shnum = head.getShort(60) & 0xffff;
            long need = Math.max(phoff + (long) phentsize * phnum, shoff + (long) shentsize * shnum);
            if (need > fileSize) {
                throw truncated(path, need, fileSize);
            }
            ByteBuffer ph = ByteBuffer.allocate(phentsize * phnum).order(ByteOrder.LITTLE_ENDIAN);
            ch.position(phoff);
            while (ph.hasRemaining() && ch.read(ph) > 0) {
                // fill the program headers
            }
            for (int i = 0; i < phnum; i++) {
                int base = i * phentsize;
                if (ph.getInt(base) == 1) { // PT_LOAD
                    long end = ph.getLong(base + 8) + ph.getLong(base + 32);
                    need = Math.max(need, end);
                }
            }
            if (need > fileSize) {
                throw truncated(path, need, fileSize);
            }
        } catch (IOException e) {
            throw new PjrtException(ErrorCode.PERMISSION_DENIED, "cannot read PJRT plugin " + path + ": " + e.getMessage(), e);
        }
    }

    private static PjrtException truncated(Path path, long need, long have) {
        return new PjrtException(ErrorCode.DATA_LOSS, "cannot load PJRT plugin " + path + ": the file is truncated or corrupt (its ELF"
                + " headers need " + need + " bytes, the file has " + have + "). Reinstall it with `cohx plugins install NAME`.");
    }

    public Path path() {
        return path;
    }

    /** PJRT C API major version of this plugin. */
    public int majorVersion() {
        return api.major;
    }

    /** PJRT C API minor version of this plugin. */
    public int minorVersion() {
        return api.minor;
    }

    /** Size of the plugin's {@code PJRT_Api} table in bytes. */
    public long apiStructSize() {
        return api.tableSize;
    }

    /** The plugin's attributes (e.g. {@code xla_version}, {@code stablehlo_current_version}). */
    public Map<String, Object> attributes() {
        Map<String, Object> a = attributes;
        if (a == null) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment args = api.args(arena, PJRT_Plugin_Attributes_Args.layout(), PJRT_Plugin_Attributes_Args_STRUCT_SIZE());
                api.call("PJRT_Plugin_Attributes", args);
                a = Collections.unmodifiableMap(new LinkedHashMap<>(NamedValues.read(
                        PJRT_Plugin_Attributes_Args.attributes(args), PJRT_Plugin_Attributes_Args.num_attributes(args))));
            }
            attributes = a;
        }
        return a;
    }

    @Override
    public String toString() {
        return "PjrtPlugin[" + path + ", API " + api.major + "." + api.minor + "]";
    }
}

package io.cohx.pjrt.testing;

import io.cohx.pjrt.ElementType;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.PjrtDevice;
import io.cohx.pjrt.PjrtPlugin;
import io.cohx.pjrt.plugins.PluginInstaller;
import io.cohx.pjrt.plugins.PluginLock;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The real PJRT CPU plugin for tests, fetched through the same installer users run
 * ({@code cohx plugins install cpu}) into the user's cache on first use, and shared clients per
 * device count that live as long as the test JVM. Also small host-array helpers for tests.
 */
public final class TestPlugins {
    private TestPlugins() {}

    private static final Map<Integer, PjrtClient> CLIENTS = new ConcurrentHashMap<>();

    /** The pinned CPU plugin entry. */
    public static PluginLock.Entry cpuEntry() {
        return PluginLock.bundled().get("cpu");
    }

    /** Path of the CPU plugin library, installing it into the cache if needed. */
    public static synchronized Path cpuLibrary() {
        return PluginInstaller.standard().install(cpuEntry(), msg -> System.err.println("[test plugin] " + msg));
    }

    /** The pjrt_c_api.h shipped inside the CPU plugin wheel (installed next to the library). */
    public static Path cpuHeader() {
        cpuLibrary();
        return PluginInstaller.standard().installedHeader(cpuEntry())
                .orElseThrow(() -> new IllegalStateException("the CPU plugin install has no include/pjrt_c_api.h"));
    }

    public static PjrtPlugin cpuPlugin() {
        return PjrtPlugin.load(cpuLibrary());
    }

    /** The system property naming the plugin {@link #testClient} uses instead of the CPU one. */
    public static final String PLATFORM_PROPERTY = "cohx.test.platform";

    private static volatile PjrtClient platformClient;

    /**
     * The one-device client for tests that do not depend on the CPU plugin (model parity,
     * training): the CPU plugin, or with {@code -Dcohx.test.platform=NAME} the plugin cohx resolves
     * for NAME ({@code cuda12}, {@code cuda13}, {@code tpu}; see {@code cohx plugins}), so the same
     * tests check an accelerator (bench/gpu-check). Do not close it.
     */
    public static PjrtClient testClient() {
        String platform = System.getProperty(PLATFORM_PROPERTY, "").trim();
        if (platform.isEmpty() || platform.equals("cpu")) {
            return cpuClient(1);
        }
        if (platformClient == null) {
            synchronized (TestPlugins.class) {
                if (platformClient == null) {
                    var found = io.cohx.pjrt.plugins.Plugins.resolve(platform, null, msg -> System.err.println("[test plugin] " + msg));
                    platformClient = PjrtClient.create(PjrtPlugin.load(found.library()), Map.of());
                }
            }
        }
        return platformClient;
    }

    /** A shared client with {@code devices} CPU devices; do not close it. */
    public static PjrtClient cpuClient(int devices) {
        return CLIENTS.computeIfAbsent(devices, n -> PjrtClient.create(cpuPlugin(), Map.of("cpu_device_count", (long) n)));
    }

    public static PjrtBuffer f32(PjrtClient client, PjrtDevice device, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return client.bufferFromHost(b.array(), ElementType.F32, dims, device);
    }

    public static PjrtBuffer s32(PjrtClient client, PjrtDevice device, long[] dims, int... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putInt(v);
        }
        return client.bufferFromHost(b.array(), ElementType.S32, dims, device);
    }

    /** bf16 from floats, rounding to nearest even. */
    public static PjrtBuffer bf16(PjrtClient client, PjrtDevice device, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            int bits = Float.floatToRawIntBits(v);
            b.putShort((short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16));
        }
        return client.bufferFromHost(b.array(), ElementType.BF16, dims, device);
    }

    public static float[] readF32(PjrtBuffer buffer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(buffer.hostSizeInBytes(), 64);
            buffer.toHost(seg);
            return seg.toArray(ValueLayout.JAVA_FLOAT);
        }
    }

    public static int[] readS32(PjrtBuffer buffer) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(buffer.hostSizeInBytes(), 64);
            buffer.toHost(seg);
            return seg.toArray(ValueLayout.JAVA_INT);
        }
    }

    /** bf16 contents widened to float. */
    public static float[] readBf16(PjrtBuffer buffer) {
        byte[] bytes = buffer.toHostBytes();
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[bytes.length / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = Float.intBitsToFloat((b.getShort() & 0xffff) << 16);
        }
        return out;
    }
}

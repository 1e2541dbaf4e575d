package io.cohx.pjrt;

import io.cohx.pjrt.testing.TestPlugins;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Plugin, client, devices, memories, events and object lifetimes on the real CPU plugin. */
class ClientTest {

    @Test
    void pluginReportsVersionAndAttributes() {
        PjrtPlugin p = TestPlugins.cpuPlugin();
        assertEquals(0, p.majorVersion());
        assertTrue(p.minorVersion() >= PjrtPlugin.MIN_MINOR_VERSION);
        assertEquals(40 + 8L * 118, p.apiStructSize(), "0.81 has 118 function slots");
        assertTrue(p.attributes().containsKey("xla_version"), p.attributes().toString());
        assertSame(p, PjrtPlugin.load(TestPlugins.cpuLibrary()), "a plugin is loaded once per path");
    }

    @Test
    void clientWithEightDevicesDescribesThem() {
        PjrtClient c = TestPlugins.cpuClient(8);
        assertEquals("cpu", c.platformName());
        assertEquals(0, c.processIndex());
        assertEquals(8, c.devices().size());
        for (int i = 0; i < 8; i++) {
            PjrtDevice d = c.devices().get(i);
            assertEquals(i, d.id());
            assertTrue(d.isAddressable());
            assertEquals("cpu", d.kind());
            assertFalse(d.debugString().isEmpty());
            assertFalse(d.memories().isEmpty());
            assertTrue(d.memories().stream().map(PjrtMemory::kind).toList().contains(d.defaultMemory().kind()));
        }
    }

    /**
     * PJRT_Device_MemoryStats: the CPU plugin has the function but answers UNIMPLEMENTED (its
     * devices keep no allocator statistics, so no limit either), which memoryStats() reports as
     * empty rather than an error. GPU plugins answer with their allocator's bytes_limit.
     */
    @Test
    void cpuPluginAnswersMemoryStatsWithUnimplemented() {
        PjrtClient c = TestPlugins.cpuClient(1);
        PjrtDevice d = c.devices().getFirst();
        assertTrue(c.api.has("PJRT_Device_MemoryStats"));
        var e = assertThrows(PjrtException.class, () -> {
            try (var arena = java.lang.foreign.Arena.ofConfined()) {
                var a = c.api.args(arena, io.cohx.pjrt.capi.PJRT_Device_MemoryStats_Args.layout(),
                        io.cohx.pjrt.capi.PjrtCApi.PJRT_Device_MemoryStats_Args_STRUCT_SIZE());
                io.cohx.pjrt.capi.PJRT_Device_MemoryStats_Args.device(a, d.ptr);
                c.api.call("PJRT_Device_MemoryStats", a);
            }
        });
        assertEquals(ErrorCode.UNIMPLEMENTED, e.code(), e.getMessage());
        assertTrue(d.memoryStats().isEmpty());
    }

    @Test
    void createOptionsChangeTheDeviceCount() {
        try (PjrtClient c = PjrtClient.create(TestPlugins.cpuPlugin(), java.util.Map.of("cpu_device_count", 3L))) {
            assertEquals(3, c.addressableDevices().size());
        }
    }

    @Test
    void readyEventCompletesFutureFromThePluginThread() throws Exception {
        PjrtClient c = TestPlugins.cpuClient(1);
        try (var b = TestPlugins.f32(c, c.addressableDevices().getFirst(), new long[] {3}, 1, 2, 3);
             var ev = b.readyEvent()) {
            ev.onReady().get(30, TimeUnit.SECONDS);
            assertTrue(ev.isReady());
            ev.await();
        }
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseThrows() {
        PjrtClient c = TestPlugins.cpuClient(1);
        var b = TestPlugins.f32(c, c.addressableDevices().getFirst(), new long[] {2}, 1, 2);
        assertEquals(8, b.onDeviceSizeInBytes());
        b.close();
        b.close();
        assertTrue(b.isClosed());
        var e = assertThrows(IllegalStateException.class, b::onDeviceSizeInBytes);
        assertTrue(e.getMessage().contains("PjrtBuffer used after close"));
    }

    @Test
    void closingAClientClosesItsBuffersAndExecutablesFirst() {
        PjrtClient c = PjrtClient.create(TestPlugins.cpuPlugin(), java.util.Map.of("cpu_device_count", 1L));
        var b = TestPlugins.f32(c, c.addressableDevices().getFirst(), new long[] {2}, 1, 2);
        var exe = c.compile(ExecuteTest.binary("add", "f32"), CompileOptions.DEFAULT);
        c.close();
        assertTrue(b.isClosed());
        assertTrue(exe.isClosed());
        assertThrows(IllegalStateException.class, () -> exe.execute(List.of(List.of(b, b))));
        c.close();
    }
}

/**
 * The Java binding to the PJRT C API: plugin loading, clients, devices, buffers, compiled
 * executables ({@code io.cohx.pjrt}) and the discovery and installation of pinned plugins
 * ({@code io.cohx.pjrt.plugins}). The jextract-generated C structs ({@code io.cohx.pjrt.capi})
 * and the generated compile-options protobuf ({@code io.cohx.pjrt.proto}) stay inside: callers
 * see Java types only. docs/ARCHITECTURE.md#module-boundaries lists every module's exports.
 */
module io.cohx.pjrt {
    // Serialized CompileOptionsProto for PJRT_Client_Compile.
    requires com.google.protobuf;
    // plugins.lock, a resource-only jar (no packages), read through the class loader.
    requires io.cohx.plugins.lock;

    exports io.cohx.pjrt;
    exports io.cohx.pjrt.plugins;
}

package io.cohx.pjrt;

import java.util.List;
import java.util.Set;

/**
 * Every PJRT struct layout the binding uses (x86-64 / aarch64 LP64). The offsets are the same in
 * PJRT C API 0.81 and 0.114; the sizes are 0.114's. {@link #GROWN_AFTER_0_81} lists the structs
 * that are larger in 0.114 than in 0.81 (plugins accept a larger {@code struct_size}).
 */
public final class Structs {
    private Structs() {}

    public static final Struct ERROR_DESTROY = Struct.of("PJRT_Error_Destroy_Args", 24, "struct_size", 0, "error", 16);
    public static final Struct ERROR_MESSAGE = Struct.of("PJRT_Error_Message_Args", 40, "error", 16, "message", 24, "message_size", 32);
    public static final Struct ERROR_GET_CODE = Struct.of("PJRT_Error_GetCode_Args", 28, "error", 16, "code", 24);
    public static final Struct PLUGIN_INITIALIZE = Struct.of("PJRT_Plugin_Initialize_Args", 16, "struct_size", 0);
    public static final Struct PLUGIN_ATTRIBUTES = Struct.of("PJRT_Plugin_Attributes_Args", 32, "attributes", 16, "num_attributes", 24);
    public static final Struct NAMED_VALUE = Struct.of("PJRT_NamedValue", 56, "name", 16, "name_size", 24, "type", 32,
            "string_value", 40, "int64_value", 40, "int64_array_value", 40, "float_value", 40, "bool_value", 40, "value_size", 48);
    public static final Struct API_VERSION = Struct.of("PJRT_Api_Version", 24, "major_version", 16, "minor_version", 20);
    /**
     * The function table. Its size grows with every minor version (984 bytes in 0.81, 1144 in
     * 0.114), so it is never sent and its size is not checked; slot offsets are append-only.
     */
    public static final Struct API = Struct.of("PJRT_Api", 0, "pjrt_api_version", 16,
            "PJRT_Error_Destroy", 40, "PJRT_Error_Message", 48, "PJRT_Error_GetCode", 56, "PJRT_Plugin_Initialize", 64,
            "PJRT_Plugin_Attributes", 72, "PJRT_Event_Destroy", 80, "PJRT_Event_IsReady", 88, "PJRT_Event_Error", 96,
            "PJRT_Event_Await", 104, "PJRT_Event_OnReady", 112, "PJRT_Client_Create", 120, "PJRT_Client_Destroy", 128,
            "PJRT_Client_PlatformName", 136, "PJRT_Client_ProcessIndex", 144, "PJRT_Client_PlatformVersion", 152,
            "PJRT_Client_Devices", 160, "PJRT_Client_AddressableDevices", 168, "PJRT_Client_Compile", 200,
            "PJRT_Client_BufferFromHostBuffer", 216, "PJRT_DeviceDescription_Id", 224, "PJRT_DeviceDescription_ProcessIndex", 232,
            "PJRT_DeviceDescription_Kind", 248, "PJRT_DeviceDescription_DebugString", 256, "PJRT_Device_GetDescription", 272,
            "PJRT_Device_IsAddressable", 280, "PJRT_Device_LocalHardwareId", 288, "PJRT_Device_AddressableMemories", 296,
            "PJRT_Device_DefaultMemory", 304, "PJRT_Memory_Kind", 328, "PJRT_Executable_Destroy", 360, "PJRT_Executable_Name", 368,
            "PJRT_Executable_NumOutputs", 392, "PJRT_Executable_Serialize", 432, "PJRT_LoadedExecutable_Destroy", 440,
            "PJRT_LoadedExecutable_GetExecutable", 448, "PJRT_LoadedExecutable_AddressableDevices", 456,
            "PJRT_LoadedExecutable_Execute", 480, "PJRT_Executable_DeserializeAndLoad", 488, "PJRT_Buffer_Destroy", 504,
            "PJRT_Buffer_ElementType", 512, "PJRT_Buffer_Dimensions", 520, "PJRT_Buffer_OnDeviceSizeInBytes", 552,
            "PJRT_Buffer_Device", 560, "PJRT_Buffer_Delete", 576, "PJRT_Buffer_IsDeleted", 584, "PJRT_Buffer_ToHostBuffer", 600,
            "PJRT_Buffer_ReadyEvent", 616, "PJRT_Executable_OutputElementTypes", 760, "PJRT_Executable_OutputDimensions", 768,
            "PJRT_Executable_GetCompiledMemoryStats", 808);

    public static final Struct EVENT_DESTROY = Struct.of("PJRT_Event_Destroy_Args", 24, "event", 16);
    public static final Struct EVENT_IS_READY = Struct.of("PJRT_Event_IsReady_Args", 25, "event", 16, "is_ready", 24);
    public static final Struct EVENT_ERROR = Struct.of("PJRT_Event_Error_Args", 24, "event", 16);
    public static final Struct EVENT_AWAIT = Struct.of("PJRT_Event_Await_Args", 24, "event", 16);
    public static final Struct EVENT_ON_READY = Struct.of("PJRT_Event_OnReady_Args", 40, "event", 16, "callback", 24, "user_arg", 32);

    public static final Struct CLIENT_CREATE = Struct.of("PJRT_Client_Create_Args", 88, "create_options", 16, "num_options", 24,
            "kv_get_callback", 32, "kv_get_user_arg", 40, "kv_put_callback", 48, "kv_put_user_arg", 56, "client", 64,
            "kv_try_get_callback", 72, "kv_try_get_user_arg", 80);
    public static final Struct CLIENT_DESTROY = Struct.of("PJRT_Client_Destroy_Args", 24, "client", 16);
    public static final Struct CLIENT_PLATFORM_NAME = Struct.of("PJRT_Client_PlatformName_Args", 40, "client", 16, "platform_name", 24, "platform_name_size", 32);
    public static final Struct CLIENT_PLATFORM_VERSION = Struct.of("PJRT_Client_PlatformVersion_Args", 40, "client", 16, "platform_version", 24, "platform_version_size", 32);
    public static final Struct CLIENT_PROCESS_INDEX = Struct.of("PJRT_Client_ProcessIndex_Args", 28, "client", 16, "process_index", 24);
    public static final Struct CLIENT_DEVICES = Struct.of("PJRT_Client_Devices_Args", 40, "client", 16, "devices", 24, "num_devices", 32);
    public static final Struct CLIENT_ADDRESSABLE_DEVICES = Struct.of("PJRT_Client_AddressableDevices_Args", 40, "client", 16, "addressable_devices", 24, "num_addressable_devices", 32);
    public static final Struct CLIENT_COMPILE = Struct.of("PJRT_Client_Compile_Args", 56, "client", 16, "program", 24, "compile_options", 32, "compile_options_size", 40, "executable", 48);
    public static final Struct CLIENT_BUFFER_FROM_HOST = Struct.of("PJRT_Client_BufferFromHostBuffer_Args", 120, "client", 16, "data", 24, "type", 32,
            "dims", 40, "num_dims", 48, "byte_strides", 56, "num_byte_strides", 64, "host_buffer_semantics", 72, "device", 80, "memory", 88,
            "device_layout", 96, "done_with_host_buffer", 104, "buffer", 112);
    public static final Struct PROGRAM = Struct.of("PJRT_Program", 48, "code", 16, "code_size", 24, "format", 32, "format_size", 40);

    public static final Struct DEVICE_GET_DESCRIPTION = Struct.of("PJRT_Device_GetDescription_Args", 32, "device", 16, "device_description", 24);
    public static final Struct DEVICE_IS_ADDRESSABLE = Struct.of("PJRT_Device_IsAddressable_Args", 25, "device", 16, "is_addressable", 24);
    public static final Struct DEVICE_LOCAL_HARDWARE_ID = Struct.of("PJRT_Device_LocalHardwareId_Args", 28, "device", 16, "local_hardware_id", 24);
    public static final Struct DEVICE_ADDRESSABLE_MEMORIES = Struct.of("PJRT_Device_AddressableMemories_Args", 40, "device", 16, "memories", 24, "num_memories", 32);
    public static final Struct DEVICE_DEFAULT_MEMORY = Struct.of("PJRT_Device_DefaultMemory_Args", 32, "device", 16, "memory", 24);
    public static final Struct DEVICE_DESCRIPTION_ID = Struct.of("PJRT_DeviceDescription_Id_Args", 28, "device_description", 16, "id", 24);
    public static final Struct DEVICE_DESCRIPTION_PROCESS_INDEX = Struct.of("PJRT_DeviceDescription_ProcessIndex_Args", 28, "device_description", 16, "process_index", 24);
    public static final Struct DEVICE_DESCRIPTION_KIND = Struct.of("PJRT_DeviceDescription_Kind_Args", 40, "device_description", 16, "device_kind", 24, "device_kind_size", 32);
    public static final Struct DEVICE_DESCRIPTION_DEBUG_STRING = Struct.of("PJRT_DeviceDescription_DebugString_Args", 40, "device_description", 16, "debug_string", 24, "debug_string_size", 32);
    public static final Struct MEMORY_KIND = Struct.of("PJRT_Memory_Kind_Args", 40, "memory", 16, "kind", 24, "kind_size", 32);

    public static final Struct BUFFER_DESTROY = Struct.of("PJRT_Buffer_Destroy_Args", 24, "buffer", 16);
    public static final Struct BUFFER_ELEMENT_TYPE = Struct.of("PJRT_Buffer_ElementType_Args", 28, "buffer", 16, "type", 24);
    public static final Struct BUFFER_DIMENSIONS = Struct.of("PJRT_Buffer_Dimensions_Args", 40, "buffer", 16, "dims", 24, "num_dims", 32);
    public static final Struct BUFFER_ON_DEVICE_SIZE = Struct.of("PJRT_Buffer_OnDeviceSizeInBytes_Args", 32, "buffer", 16, "on_device_size_in_bytes", 24);
    public static final Struct BUFFER_DEVICE = Struct.of("PJRT_Buffer_Device_Args", 32, "buffer", 16, "device", 24);
    public static final Struct BUFFER_DELETE = Struct.of("PJRT_Buffer_Delete_Args", 24, "buffer", 16);
    public static final Struct BUFFER_IS_DELETED = Struct.of("PJRT_Buffer_IsDeleted_Args", 25, "buffer", 16, "is_deleted", 24);
    public static final Struct BUFFER_TO_HOST = Struct.of("PJRT_Buffer_ToHostBuffer_Args", 56, "src", 16, "host_layout", 24, "dst", 32, "dst_size", 40, "event", 48);
    public static final Struct BUFFER_READY_EVENT = Struct.of("PJRT_Buffer_ReadyEvent_Args", 32, "buffer", 16, "event", 24);
    public static final Struct BUFFER_MEMORY_LAYOUT = Struct.of("PJRT_Buffer_MemoryLayout", 76, "tiled", 16, "type", 72);
    public static final Struct BUFFER_MEMORY_LAYOUT_TILED = Struct.of("PJRT_Buffer_MemoryLayout_Tiled", 56, "minor_to_major", 16, "minor_to_major_size", 24,
            "tile_dims", 32, "tile_dim_sizes", 40, "num_tiles", 48);

    public static final Struct EXECUTABLE_DESTROY = Struct.of("PJRT_Executable_Destroy_Args", 24, "executable", 16);
    public static final Struct EXECUTABLE_NAME = Struct.of("PJRT_Executable_Name_Args", 40, "executable", 16, "executable_name", 24, "executable_name_size", 32);
    public static final Struct EXECUTABLE_NUM_OUTPUTS = Struct.of("PJRT_Executable_NumOutputs_Args", 32, "executable", 16, "num_outputs", 24);
    public static final Struct EXECUTABLE_OUTPUT_ELEMENT_TYPES = Struct.of("PJRT_Executable_OutputElementTypes_Args", 40, "executable", 16, "output_types", 24, "num_output_types", 32);
    public static final Struct EXECUTABLE_OUTPUT_DIMENSIONS = Struct.of("PJRT_Executable_OutputDimensions_Args", 48, "executable", 16, "num_outputs", 24, "dims", 32, "dim_sizes", 40);
    public static final Struct EXECUTABLE_SERIALIZE = Struct.of("PJRT_Executable_Serialize_Args", 56, "executable", 16, "serialized_bytes", 24,
            "serialized_bytes_size", 32, "serialized_executable", 40, "serialized_executable_deleter", 48);
    public static final Struct EXECUTABLE_DESERIALIZE_AND_LOAD = Struct.of("PJRT_Executable_DeserializeAndLoad_Args", 72, "client", 16,
            "serialized_executable", 24, "serialized_executable_size", 32, "loaded_executable", 40,
            "overridden_serialized_compile_options", 48, "overridden_serialized_compile_options_size", 56);
    public static final Struct EXECUTABLE_COMPILED_MEMORY_STATS = Struct.of("PJRT_Executable_GetCompiledMemoryStats_Args", 144,
            "executable", 16, "generated_code_size_in_bytes", 24, "argument_size_in_bytes", 32, "output_size_in_bytes", 40,
            "alias_size_in_bytes", 48, "temp_size_in_bytes", 56, "host_generated_code_size_in_bytes", 64,
            "host_argument_size_in_bytes", 72, "host_output_size_in_bytes", 80, "host_alias_size_in_bytes", 88,
            "host_temp_size_in_bytes", 96, "peak_memory_in_bytes", 104);
    public static final Struct LOADED_EXECUTABLE_DESTROY = Struct.of("PJRT_LoadedExecutable_Destroy_Args", 24, "executable", 16);
    public static final Struct LOADED_EXECUTABLE_GET_EXECUTABLE = Struct.of("PJRT_LoadedExecutable_GetExecutable_Args", 32, "loaded_executable", 16, "executable", 24);
    public static final Struct LOADED_EXECUTABLE_ADDRESSABLE_DEVICES = Struct.of("PJRT_LoadedExecutable_AddressableDevices_Args", 40, "executable", 16,
            "addressable_devices", 24, "num_addressable_devices", 32);
    public static final Struct EXECUTE_OPTIONS = Struct.of("PJRT_ExecuteOptions", 144, "send_callbacks", 16, "recv_callbacks", 24, "num_send_ops", 32,
            "num_recv_ops", 40, "launch_id", 48, "non_donatable_input_indices", 56, "num_non_donatable_input_indices", 64, "context", 72);
    public static final Struct LOADED_EXECUTABLE_EXECUTE = Struct.of("PJRT_LoadedExecutable_Execute_Args", 80, "executable", 16, "options", 24,
            "argument_lists", 32, "num_devices", 40, "num_args", 48, "output_lists", 56, "device_complete_events", 64, "execute_device", 72);

    /** Structs whose 0.114 size (sent by cohx) exceeds the 0.81 size; the offsets of shared fields agree. */
    public static final Set<String> GROWN_AFTER_0_81 = Set.of("PJRT_ExecuteOptions", "PJRT_Executable_DeserializeAndLoad_Args",
            "PJRT_Executable_GetCompiledMemoryStats_Args");

    /** Every layout above, for the layout test. */
    public static List<Struct> all() {
        return List.of(API, ERROR_DESTROY, ERROR_MESSAGE, ERROR_GET_CODE, PLUGIN_INITIALIZE, PLUGIN_ATTRIBUTES, NAMED_VALUE, API_VERSION,
                EVENT_DESTROY, EVENT_IS_READY, EVENT_ERROR, EVENT_AWAIT, EVENT_ON_READY,
                CLIENT_CREATE, CLIENT_DESTROY, CLIENT_PLATFORM_NAME, CLIENT_PLATFORM_VERSION, CLIENT_PROCESS_INDEX, CLIENT_DEVICES,
                CLIENT_ADDRESSABLE_DEVICES, CLIENT_COMPILE, CLIENT_BUFFER_FROM_HOST, PROGRAM,
                DEVICE_GET_DESCRIPTION, DEVICE_IS_ADDRESSABLE, DEVICE_LOCAL_HARDWARE_ID, DEVICE_ADDRESSABLE_MEMORIES, DEVICE_DEFAULT_MEMORY,
                DEVICE_DESCRIPTION_ID, DEVICE_DESCRIPTION_PROCESS_INDEX, DEVICE_DESCRIPTION_KIND, DEVICE_DESCRIPTION_DEBUG_STRING, MEMORY_KIND,
                BUFFER_DESTROY, BUFFER_ELEMENT_TYPE, BUFFER_DIMENSIONS, BUFFER_ON_DEVICE_SIZE, BUFFER_DEVICE, BUFFER_DELETE, BUFFER_IS_DELETED,
                BUFFER_TO_HOST, BUFFER_READY_EVENT, BUFFER_MEMORY_LAYOUT, BUFFER_MEMORY_LAYOUT_TILED,
                EXECUTABLE_DESTROY, EXECUTABLE_NAME, EXECUTABLE_NUM_OUTPUTS, EXECUTABLE_OUTPUT_ELEMENT_TYPES, EXECUTABLE_OUTPUT_DIMENSIONS,
                EXECUTABLE_SERIALIZE, EXECUTABLE_DESERIALIZE_AND_LOAD, EXECUTABLE_COMPILED_MEMORY_STATS, LOADED_EXECUTABLE_DESTROY, LOADED_EXECUTABLE_GET_EXECUTABLE,
                LOADED_EXECUTABLE_ADDRESSABLE_DEVICES, EXECUTE_OPTIONS, LOADED_EXECUTABLE_EXECUTE);
    }
}

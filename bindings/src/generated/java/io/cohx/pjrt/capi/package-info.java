// GENERATED SOURCES - DO NOT EDIT. Regenerate with tools/jextract/generate-pjrt-bindings.sh.
/**
 * The PJRT C API as jextract generated it: struct layouts with getters and setters, the
 * {@code *_STRUCT_SIZE} constants, enum values, and the callback function-pointer types (upcall
 * stubs). {@code io.cohx.pjrt} is the safe layer over it; nothing else should use this package.
 *
 * <p>Header: {@code xla_plugins/xla_cpu_pjrt/include/pjrt_c_api.h}, PJRT C API 0.81,
 * sha256 c85bb95cb1743c2a353a555b3ab35f065e5f17007c7f182ad68d23754950235c,
 * from the pinned wheel {@code xla_cpu_pjrt-0.0.1-py3-none-manylinux_2_27_x86_64.whl} (native/plugins.lock, section [cpu]).
 * It is the only pinned wheel that ships the header (the CUDA and TPU wheels, whose plugins
 * implement 0.115, do not), so these are the newest layouts cohx can pin to a wheel; plugins newer
 * than the header are driven as {@code io.cohx.pjrt.Api} describes.
 *
 * <p>Made by {@code tools/jextract/generate-pjrt-bindings.sh JEXTRACT}, which ran
 * jextract 23 (libclang Debian clang version 14.0.6) with clang flags {@code -ffreestanding -Wno-macro-redefined} as
 * <pre>
 * jextract
 *     -t io.cohx.pjrt.capi
 *     --header-class-name PjrtCApi
 *     --output out
 *     --include-struct PJRT_Api
 *     --include-constant PJRT_Api_STRUCT_SIZE
 *     --include-struct PJRT_Api_Version
 *     --include-constant PJRT_Api_Version_STRUCT_SIZE
 *     --include-struct PJRT_Error_Destroy_Args
 *     --include-constant PJRT_Error_Destroy_Args_STRUCT_SIZE
 *     --include-struct PJRT_Error_Message_Args
 *     --include-constant PJRT_Error_Message_Args_STRUCT_SIZE
 *     --include-struct PJRT_Error_GetCode_Args
 *     --include-constant PJRT_Error_GetCode_Args_STRUCT_SIZE
 *     --include-struct PJRT_Plugin_Initialize_Args
 *     --include-constant PJRT_Plugin_Initialize_Args_STRUCT_SIZE
 *     --include-struct PJRT_Plugin_Attributes_Args
 *     --include-constant PJRT_Plugin_Attributes_Args_STRUCT_SIZE
 *     --include-struct PJRT_NamedValue
 *     --include-constant PJRT_NamedValue_STRUCT_SIZE
 *     --include-struct PJRT_Event_Destroy_Args
 *     --include-constant PJRT_Event_Destroy_Args_STRUCT_SIZE
 *     --include-struct PJRT_Event_IsReady_Args
 *     --include-constant PJRT_Event_IsReady_Args_STRUCT_SIZE
 *     --include-struct PJRT_Event_Await_Args
 *     --include-constant PJRT_Event_Await_Args_STRUCT_SIZE
 *     --include-struct PJRT_Event_OnReady_Args
 *     --include-constant PJRT_Event_OnReady_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_Create_Args
 *     --include-constant PJRT_Client_Create_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_Destroy_Args
 *     --include-constant PJRT_Client_Destroy_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_PlatformName_Args
 *     --include-constant PJRT_Client_PlatformName_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_PlatformVersion_Args
 *     --include-constant PJRT_Client_PlatformVersion_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_ProcessIndex_Args
 *     --include-constant PJRT_Client_ProcessIndex_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_Devices_Args
 *     --include-constant PJRT_Client_Devices_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_AddressableDevices_Args
 *     --include-constant PJRT_Client_AddressableDevices_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_Compile_Args
 *     --include-constant PJRT_Client_Compile_Args_STRUCT_SIZE
 *     --include-struct PJRT_Client_BufferFromHostBuffer_Args
 *     --include-constant PJRT_Client_BufferFromHostBuffer_Args_STRUCT_SIZE
 *     --include-struct PJRT_Program
 *     --include-constant PJRT_Program_STRUCT_SIZE
 *     --include-struct PJRT_KeyValueGetCallback_Args
 *     --include-constant PJRT_KeyValueGetCallback_Args_STRUCT_SIZE
 *     --include-struct PJRT_KeyValuePutCallback_Args
 *     --include-constant PJRT_KeyValuePutCallback_Args_STRUCT_SIZE
 *     --include-struct PJRT_KeyValueTryGetCallback_Args
 *     --include-constant PJRT_KeyValueTryGetCallback_Args_STRUCT_SIZE
 *     --include-struct PJRT_Device_GetDescription_Args
 *     --include-constant PJRT_Device_GetDescription_Args_STRUCT_SIZE
 *     --include-struct PJRT_Device_IsAddressable_Args
 *     --include-constant PJRT_Device_IsAddressable_Args_STRUCT_SIZE
 *     --include-struct PJRT_Device_LocalHardwareId_Args
 *     --include-constant PJRT_Device_LocalHardwareId_Args_STRUCT_SIZE
 *     --include-struct PJRT_Device_AddressableMemories_Args
 *     --include-constant PJRT_Device_AddressableMemories_Args_STRUCT_SIZE
 *     --include-struct PJRT_Device_DefaultMemory_Args
 *     --include-constant PJRT_Device_DefaultMemory_Args_STRUCT_SIZE
 *     --include-struct PJRT_Device_MemoryStats_Args
 *     --include-constant PJRT_Device_MemoryStats_Args_STRUCT_SIZE
 *     --include-struct PJRT_DeviceDescription_Id_Args
 *     --include-constant PJRT_DeviceDescription_Id_Args_STRUCT_SIZE
 *     --include-struct PJRT_DeviceDescription_ProcessIndex_Args
 *     --include-constant PJRT_DeviceDescription_ProcessIndex_Args_STRUCT_SIZE
 *     --include-struct PJRT_DeviceDescription_Kind_Args
 *     --include-constant PJRT_DeviceDescription_Kind_Args_STRUCT_SIZE
 *     --include-struct PJRT_DeviceDescription_DebugString_Args
 *     --include-constant PJRT_DeviceDescription_DebugString_Args_STRUCT_SIZE
 *     --include-struct PJRT_Memory_Kind_Args
 *     --include-constant PJRT_Memory_Kind_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_Destroy_Args
 *     --include-constant PJRT_Buffer_Destroy_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_ElementType_Args
 *     --include-constant PJRT_Buffer_ElementType_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_Dimensions_Args
 *     --include-constant PJRT_Buffer_Dimensions_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_OnDeviceSizeInBytes_Args
 *     --include-constant PJRT_Buffer_OnDeviceSizeInBytes_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_Device_Args
 *     --include-constant PJRT_Buffer_Device_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_Delete_Args
 *     --include-constant PJRT_Buffer_Delete_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_IsDeleted_Args
 *     --include-constant PJRT_Buffer_IsDeleted_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_ToHostBuffer_Args
 *     --include-constant PJRT_Buffer_ToHostBuffer_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_ReadyEvent_Args
 *     --include-constant PJRT_Buffer_ReadyEvent_Args_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_MemoryLayout
 *     --include-constant PJRT_Buffer_MemoryLayout_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_MemoryLayout_Tiled
 *     --include-constant PJRT_Buffer_MemoryLayout_Tiled_STRUCT_SIZE
 *     --include-struct PJRT_Buffer_MemoryLayout_Strides
 *     --include-constant PJRT_Buffer_MemoryLayout_Strides_STRUCT_SIZE
 *     --include-struct PJRT_Executable_Destroy_Args
 *     --include-constant PJRT_Executable_Destroy_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_Name_Args
 *     --include-constant PJRT_Executable_Name_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_NumOutputs_Args
 *     --include-constant PJRT_Executable_NumOutputs_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_OutputElementTypes_Args
 *     --include-constant PJRT_Executable_OutputElementTypes_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_OutputDimensions_Args
 *     --include-constant PJRT_Executable_OutputDimensions_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_Serialize_Args
 *     --include-constant PJRT_Executable_Serialize_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_DeserializeAndLoad_Args
 *     --include-constant PJRT_Executable_DeserializeAndLoad_Args_STRUCT_SIZE
 *     --include-struct PJRT_Executable_GetCompiledMemoryStats_Args
 *     --include-constant PJRT_Executable_GetCompiledMemoryStats_Args_STRUCT_SIZE
 *     --include-struct PJRT_LoadedExecutable_Destroy_Args
 *     --include-constant PJRT_LoadedExecutable_Destroy_Args_STRUCT_SIZE
 *     --include-struct PJRT_LoadedExecutable_GetExecutable_Args
 *     --include-constant PJRT_LoadedExecutable_GetExecutable_Args_STRUCT_SIZE
 *     --include-struct PJRT_LoadedExecutable_AddressableDevices_Args
 *     --include-constant PJRT_LoadedExecutable_AddressableDevices_Args_STRUCT_SIZE
 *     --include-struct PJRT_LoadedExecutable_Execute_Args
 *     --include-constant PJRT_LoadedExecutable_Execute_Args_STRUCT_SIZE
 *     --include-struct PJRT_ExecuteOptions
 *     --include-constant PJRT_ExecuteOptions_STRUCT_SIZE
 *     --include-typedef PJRT_Event_OnReadyCallback
 *     --include-typedef PJRT_CallbackError
 *     --include-typedef PJRT_KeyValueGetCallback
 *     --include-typedef PJRT_KeyValueGetCallback_ValueDeleter
 *     --include-typedef PJRT_KeyValuePutCallback
 *     --include-typedef PJRT_KeyValueTryGetCallback
 *     --include-typedef PJRT_KeyValueTryGetCallback_ValueDeleter
 *     --include-constant PJRT_API_MAJOR
 *     --include-constant PJRT_API_MINOR
 *     --include-constant PJRT_Buffer_Type_INVALID
 *     --include-constant PJRT_Buffer_Type_PRED
 *     --include-constant PJRT_Buffer_Type_S8
 *     --include-constant PJRT_Buffer_Type_S16
 *     --include-constant PJRT_Buffer_Type_S32
 *     --include-constant PJRT_Buffer_Type_S64
 *     --include-constant PJRT_Buffer_Type_U8
 *     --include-constant PJRT_Buffer_Type_U16
 *     --include-constant PJRT_Buffer_Type_U32
 *     --include-constant PJRT_Buffer_Type_U64
 *     --include-constant PJRT_Buffer_Type_F16
 *     --include-constant PJRT_Buffer_Type_F32
 *     --include-constant PJRT_Buffer_Type_F64
 *     --include-constant PJRT_Buffer_Type_BF16
 *     --include-constant PJRT_Buffer_Type_C64
 *     --include-constant PJRT_Buffer_Type_C128
 *     --include-constant PJRT_Error_Code_CANCELLED
 *     --include-constant PJRT_Error_Code_UNKNOWN
 *     --include-constant PJRT_Error_Code_INVALID_ARGUMENT
 *     --include-constant PJRT_Error_Code_DEADLINE_EXCEEDED
 *     --include-constant PJRT_Error_Code_NOT_FOUND
 *     --include-constant PJRT_Error_Code_ALREADY_EXISTS
 *     --include-constant PJRT_Error_Code_PERMISSION_DENIED
 *     --include-constant PJRT_Error_Code_RESOURCE_EXHAUSTED
 *     --include-constant PJRT_Error_Code_FAILED_PRECONDITION
 *     --include-constant PJRT_Error_Code_ABORTED
 *     --include-constant PJRT_Error_Code_OUT_OF_RANGE
 *     --include-constant PJRT_Error_Code_UNIMPLEMENTED
 *     --include-constant PJRT_Error_Code_INTERNAL
 *     --include-constant PJRT_Error_Code_UNAVAILABLE
 *     --include-constant PJRT_Error_Code_DATA_LOSS
 *     --include-constant PJRT_Error_Code_UNAUTHENTICATED
 *     --include-constant PJRT_NamedValue_kString
 *     --include-constant PJRT_NamedValue_kInt64
 *     --include-constant PJRT_NamedValue_kInt64List
 *     --include-constant PJRT_NamedValue_kFloat
 *     --include-constant PJRT_NamedValue_kBool
 *     --include-constant PJRT_HostBufferSemantics_kImmutableOnlyDuringCall
 *     --include-constant PJRT_Buffer_MemoryLayout_Type_Tiled
 *     pjrt_c_api.h
 * </pre>
 */
package io.cohx.pjrt.capi;

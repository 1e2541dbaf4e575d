#!/usr/bin/env bash
# Regenerates the PJRT C API bindings (bindings/src/generated/java, package io.cohx.pjrt.capi) by
# running a jextract you point at on the pjrt_c_api.h shipped inside the pinned CPU plugin wheel.
#
#   tools/jextract/generate-pjrt-bindings.sh JEXTRACT [--wheel FILE]
#
#   JEXTRACT      the jextract launcher (e.g. /opt/jextract-25/bin/jextract); this script only runs it.
#   --wheel FILE  use this copy of the pinned wheel instead of fetching it with pip (its sha256 is
#                 still checked against native/plugins.lock).
#
# Prerequisites and the jextract/libclang versions that reproduce the committed sources byte for
# byte: docs/PJRT_BINDINGS.md. The header comes from the wheel (never from a copy in this repo):
# the lock's [cpu] entry names the wheel, its sha256 and the header's path inside it. The output
# directory is replaced only after jextract succeeded.
set -euo pipefail

usage() { sed -n '4,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 1 ]] || usage
JEXTRACT=$1; shift
WHEEL_ARG=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --wheel)
            [[ $# -ge 2 ]] || usage
            [[ -f $2 ]] || { echo "error: --wheel $2: no such file" >&2; exit 2; }
            WHEEL_ARG=$(realpath "$2"); shift 2 ;;
        *) usage ;;
    esac
done
[[ -x $JEXTRACT ]] || { echo "error: '$JEXTRACT' is not an executable jextract launcher (pass the path to bin/jextract)" >&2; exit 2; }
JEXTRACT=$(realpath "$JEXTRACT")

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOCK=$ROOT/native/plugins.lock
OUT=$ROOT/bindings/src/generated/java
PACKAGE=io.cohx.pjrt.capi
HEADER_CLASS=PjrtCApi

# ---- What to generate. jextract's --include-* filters take exact names; everything else in the
# header (about 150 more structs and 130 function typedefs) is left out so the generated package
# holds what io.cohx.pjrt uses, plus the multi-process client-creation pieces. Each struct also
# brings its NAME_STRUCT_SIZE constant (the size the C API expects in `struct_size`).
STRUCTS=(
    # the function table and its version
    PJRT_Api PJRT_Api_Version
    # errors, plugin, named values
    PJRT_Error_Destroy_Args PJRT_Error_Message_Args PJRT_Error_GetCode_Args
    PJRT_Plugin_Initialize_Args PJRT_Plugin_Attributes_Args PJRT_NamedValue
    # events
    PJRT_Event_Destroy_Args PJRT_Event_IsReady_Args PJRT_Event_Await_Args PJRT_Event_OnReady_Args
    # client (create with the key-value store callbacks that multi-process clients need)
    PJRT_Client_Create_Args PJRT_Client_Destroy_Args PJRT_Client_PlatformName_Args
    PJRT_Client_PlatformVersion_Args PJRT_Client_ProcessIndex_Args PJRT_Client_Devices_Args
    PJRT_Client_AddressableDevices_Args PJRT_Client_Compile_Args PJRT_Client_BufferFromHostBuffer_Args
    PJRT_Program
    PJRT_KeyValueGetCallback_Args PJRT_KeyValuePutCallback_Args PJRT_KeyValueTryGetCallback_Args
    # devices and memories
    PJRT_Device_GetDescription_Args PJRT_Device_IsAddressable_Args PJRT_Device_LocalHardwareId_Args
    PJRT_Device_AddressableMemories_Args PJRT_Device_DefaultMemory_Args PJRT_Device_MemoryStats_Args
    PJRT_DeviceDescription_Id_Args PJRT_DeviceDescription_ProcessIndex_Args
    PJRT_DeviceDescription_Kind_Args PJRT_DeviceDescription_DebugString_Args PJRT_Memory_Kind_Args
    # buffers
    PJRT_Buffer_Destroy_Args PJRT_Buffer_ElementType_Args PJRT_Buffer_Dimensions_Args
    PJRT_Buffer_OnDeviceSizeInBytes_Args PJRT_Buffer_Device_Args PJRT_Buffer_Delete_Args
    PJRT_Buffer_IsDeleted_Args PJRT_Buffer_ToHostBuffer_Args PJRT_Buffer_ReadyEvent_Args
    PJRT_Buffer_MemoryLayout PJRT_Buffer_MemoryLayout_Tiled PJRT_Buffer_MemoryLayout_Strides
    # executables
    PJRT_Executable_Destroy_Args PJRT_Executable_Name_Args PJRT_Executable_NumOutputs_Args
    PJRT_Executable_OutputElementTypes_Args PJRT_Executable_OutputDimensions_Args
    PJRT_Executable_Serialize_Args PJRT_Executable_DeserializeAndLoad_Args
    PJRT_Executable_GetCompiledMemoryStats_Args
    PJRT_LoadedExecutable_Destroy_Args PJRT_LoadedExecutable_GetExecutable_Args
    PJRT_LoadedExecutable_AddressableDevices_Args PJRT_LoadedExecutable_Execute_Args PJRT_ExecuteOptions
)
# Function-pointer types the caller implements (upcalls): event completion, the key-value store
# and the error constructor the plugin hands to those callbacks.
CALLBACK_TYPEDEFS=(
    PJRT_Event_OnReadyCallback PJRT_CallbackError
    PJRT_KeyValueGetCallback PJRT_KeyValueGetCallback_ValueDeleter
    PJRT_KeyValuePutCallback
    PJRT_KeyValueTryGetCallback PJRT_KeyValueTryGetCallback_ValueDeleter
)
# Enum values the binding reads or writes (element types, error codes, named-value types, ...).
CONSTANTS=(
    PJRT_API_MAJOR PJRT_API_MINOR
    PJRT_Buffer_Type_INVALID PJRT_Buffer_Type_PRED PJRT_Buffer_Type_S8 PJRT_Buffer_Type_S16
    PJRT_Buffer_Type_S32 PJRT_Buffer_Type_S64 PJRT_Buffer_Type_U8 PJRT_Buffer_Type_U16
    PJRT_Buffer_Type_U32 PJRT_Buffer_Type_U64 PJRT_Buffer_Type_F16 PJRT_Buffer_Type_F32
    PJRT_Buffer_Type_F64 PJRT_Buffer_Type_BF16 PJRT_Buffer_Type_C64 PJRT_Buffer_Type_C128
    PJRT_Error_Code_CANCELLED PJRT_Error_Code_UNKNOWN PJRT_Error_Code_INVALID_ARGUMENT
    PJRT_Error_Code_DEADLINE_EXCEEDED PJRT_Error_Code_NOT_FOUND PJRT_Error_Code_ALREADY_EXISTS
    PJRT_Error_Code_PERMISSION_DENIED PJRT_Error_Code_RESOURCE_EXHAUSTED
    PJRT_Error_Code_FAILED_PRECONDITION PJRT_Error_Code_ABORTED PJRT_Error_Code_OUT_OF_RANGE
    PJRT_Error_Code_UNIMPLEMENTED PJRT_Error_Code_INTERNAL PJRT_Error_Code_UNAVAILABLE
    PJRT_Error_Code_DATA_LOSS PJRT_Error_Code_UNAUTHENTICATED
    PJRT_NamedValue_kString PJRT_NamedValue_kInt64 PJRT_NamedValue_kInt64List
    PJRT_NamedValue_kFloat PJRT_NamedValue_kBool
    PJRT_HostBufferSemantics_kImmutableOnlyDuringCall
    PJRT_Buffer_MemoryLayout_Type_Tiled
)
# Clang flags (jextract reads them from compile_flags.txt in its working directory). The header
# needs only the fixed-width integer, size_t and bool types, which clang's own freestanding
# headers define; -ffreestanding keeps the result independent of the host's C library headers.
CLANG_FLAGS=(-ffreestanding -Wno-macro-redefined)

# ---- The pinned wheel and its header
lock_value() { # lock_value SECTION KEY
    awk -v sec="[$1]" -v key="$2" '
        /^\[/ { in_sec = ($0 == sec); next }
        in_sec && $1 == key && $2 == "=" { sub(/^[^=]*=[ \t]*/, ""); print; exit }' "$LOCK"
}
PKG=$(lock_value cpu package); VERSION=$(lock_value cpu version); WHEEL=$(lock_value cpu wheel)
WHEEL_SHA=$(lock_value cpu sha256); PY=$(lock_value cpu python); PLATFORM=$(lock_value cpu platform)
HEADER_IN_WHEEL=$(lock_value cpu header)
for v in PKG VERSION WHEEL WHEEL_SHA PY PLATFORM HEADER_IN_WHEEL; do
    [[ -n ${!v} ]] || { echo "error: $LOCK: the [cpu] entry has no value for $v" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cohx-jextract.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

if [[ -n $WHEEL_ARG ]]; then
    WHEEL_FILE=$WHEEL_ARG
else
    echo "fetching $PKG==$VERSION with pip ($WHEEL)" >&2
    python3 -m pip download --no-deps --only-binary=:all: --disable-pip-version-check --no-input \
        --python-version "$PY" --platform "$PLATFORM" -d "$WORK/wheel" "$PKG==$VERSION" >"$WORK/pip.log" 2>&1 \
        || { cat "$WORK/pip.log" >&2; echo "error: pip could not download $PKG==$VERSION (or pass --wheel FILE)" >&2; exit 1; }
    WHEEL_FILE=$WORK/wheel/$WHEEL
    [[ -f $WHEEL_FILE ]] || { echo "error: pip did not fetch $WHEEL, the wheel the lock pins:" >&2; ls "$WORK/wheel" >&2; exit 1; }
fi
GOT_SHA=$(sha256sum "$WHEEL_FILE" | cut -d' ' -f1)
[[ $GOT_SHA == "$WHEEL_SHA" ]] || { echo "error: $WHEEL_FILE has sha256 $GOT_SHA, the lock pins $WHEEL_SHA" >&2; exit 1; }

mkdir -p "$WORK/jextract"
python3 - "$WHEEL_FILE" "$HEADER_IN_WHEEL" "$WORK/jextract/pjrt_c_api.h" <<'EOF'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[3], "wb") as out:
    out.write(z.read(sys.argv[2]))
EOF
HEADER_SHA=$(sha256sum "$WORK/jextract/pjrt_c_api.h" | cut -d' ' -f1)
API_MAJOR=$(awk '$1 == "#define" && $2 == "PJRT_API_MAJOR" { print $3 }' "$WORK/jextract/pjrt_c_api.h")
API_MINOR=$(awk '$1 == "#define" && $2 == "PJRT_API_MINOR" { print $3 }' "$WORK/jextract/pjrt_c_api.h")

# ---- Run jextract
ARGS=(-t "$PACKAGE" --header-class-name "$HEADER_CLASS" --output out)
for s in "${STRUCTS[@]}"; do ARGS+=(--include-struct "$s" --include-constant "${s}_STRUCT_SIZE"); done
for t in "${CALLBACK_TYPEDEFS[@]}"; do ARGS+=(--include-typedef "$t"); done
for c in "${CONSTANTS[@]}"; do ARGS+=(--include-constant "$c"); done
printf '%s\n' "${CLANG_FLAGS[@]}" >"$WORK/jextract/compile_flags.txt"
JEXTRACT_VERSION=$("$JEXTRACT" --version 2>&1 | awk '/^jextract /' | head -1)
LIBCLANG_VERSION=$("$JEXTRACT" --version 2>&1 | sed -n 's/^LibClang version //p' | head -1)
echo "running $JEXTRACT_VERSION (libclang $LIBCLANG_VERSION) on $HEADER_IN_WHEEL, PJRT C API $API_MAJOR.$API_MINOR" >&2
(cd "$WORK/jextract" && "$JEXTRACT" "${ARGS[@]}" pjrt_c_api.h) >"$WORK/jextract.log" 2>&1 \
    || { cat "$WORK/jextract.log" >&2; echo "error: jextract failed" >&2; exit 1; }
# jextract warns about declarations it skips; anything else (an error, a missing dependency) is fatal.
if grep -v -e ': warning: ' "$WORK/jextract.log" | grep -q .; then
    cat "$WORK/jextract.log" >&2; echo "error: unexpected jextract output (above)" >&2; exit 1
fi

# ---- The record of what made these sources (read by GeneratedSourcesTest)
PKG_DIR=$WORK/jextract/out/${PACKAGE//.//}
COMMAND=""  # one option and its value a line (every option used takes one value)
for ((i = 0; i < ${#ARGS[@]}; i += 2)); do COMMAND+=" *     ${ARGS[i]} ${ARGS[i+1]}"$'\n'; done
COMMAND+=" *     pjrt_c_api.h"
cat >"$PKG_DIR/package-info.java" <<EOF
// GENERATED SOURCES - DO NOT EDIT. Regenerate with tools/jextract/generate-pjrt-bindings.sh.
/**
 * The PJRT C API as jextract generated it: struct layouts with getters and setters, the
 * {@code *_STRUCT_SIZE} constants, enum values, and the callback function-pointer types (upcall
 * stubs). {@code io.cohx.pjrt} is the safe layer over it; nothing else should use this package.
 *
 * <p>Header: {@code $HEADER_IN_WHEEL}, PJRT C API $API_MAJOR.$API_MINOR,
 * sha256 $HEADER_SHA,
 * from the pinned wheel {@code $WHEEL} (native/plugins.lock, section [cpu]).
 * It is the only pinned wheel that ships the header (the CUDA and TPU wheels, whose plugins
 * implement 0.115, do not), so these are the newest layouts cohx can pin to a wheel; plugins newer
 * than the header are driven as {@code io.cohx.pjrt.Api} describes.
 *
 * <p>Made by {@code tools/jextract/generate-pjrt-bindings.sh JEXTRACT}, which ran
 * $JEXTRACT_VERSION (libclang $LIBCLANG_VERSION) with clang flags {@code ${CLANG_FLAGS[*]}} as
 * <pre>
 * jextract
$COMMAND
 * </pre>
 */
package $PACKAGE;
EOF

# ---- Replace the committed sources
rm -rf "$OUT.new"
mkdir -p "$(dirname "$OUT")"
cp -r "$WORK/jextract/out" "$OUT.new"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
echo "wrote $(find "$OUT" -name '*.java' | wc -l) files to ${OUT#"$ROOT"/} (header sha256 $HEADER_SHA)" >&2

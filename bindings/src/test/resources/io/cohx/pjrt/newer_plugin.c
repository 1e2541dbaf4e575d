/* A stand-in plugin for ForwardReserveTest, built by the test with gcc against the real
 * pjrt_c_api.h of the pinned CPU wheel. It reports PJRT C API 0.MINOR and behaves like an XLA
 * plugin built from a header in which PJRT_Plugin_Initialize_Args grew by GROWN bytes: it rejects a
 * smaller struct_size ("Unexpected ... size") and reads the bytes past the fields it shares with the
 * caller's header as its newer fields, which must be zero ("not set"). PJRT_Plugin_Attributes then
 * reports the struct_size it was initialised with, so the test can see what the binding sent. */
#include <stdio.h>
#include <string.h>

#include "pjrt_c_api.h"

#ifndef MINOR
#define MINOR 115
#endif
#ifndef GROWN
#define GROWN 8
#endif

struct PJRT_Error {
  PJRT_Error_Code code;
  char message[200];
};

static struct PJRT_Error last_error;
static int64_t seen_struct_size = -1;

static PJRT_Error* fail(PJRT_Error_Code code, const char* message) {
  last_error.code = code;
  snprintf(last_error.message, sizeof last_error.message, "%s", message);
  return &last_error;
}

static void error_destroy(PJRT_Error_Destroy_Args* args) { (void)args; }

static void error_message(PJRT_Error_Message_Args* args) {
  args->message = args->error->message;
  args->message_size = strlen(args->error->message);
}

static PJRT_Error* error_get_code(PJRT_Error_GetCode_Args* args) {
  args->code = args->error->code;
  return NULL;
}

static PJRT_Error* plugin_initialize(PJRT_Plugin_Initialize_Args* args) {
  size_t mine = PJRT_Plugin_Initialize_Args_STRUCT_SIZE + GROWN;
  seen_struct_size = (int64_t)args->struct_size;
  if (args->struct_size < mine) {
    char message[200];
    snprintf(message, sizeof message, "Unexpected PJRT_Plugin_Initialize_Args size: expected %zu, got %zu", mine,
             args->struct_size);
    return fail(PJRT_Error_Code_INVALID_ARGUMENT, message);
  }
  const unsigned char* bytes = (const unsigned char*)args;
  for (size_t i = PJRT_Plugin_Initialize_Args_STRUCT_SIZE; i < args->struct_size; i++) {
    if (bytes[i] != 0) {
      return fail(PJRT_Error_Code_INVALID_ARGUMENT, "a field past the caller's header is not zero");
    }
  }
  return NULL;
}

static PJRT_NamedValue attribute;

static PJRT_Error* plugin_attributes(PJRT_Plugin_Attributes_Args* args) {
  attribute.struct_size = PJRT_NamedValue_STRUCT_SIZE;
  attribute.name = "seen_struct_size";
  attribute.name_size = strlen(attribute.name);
  attribute.type = PJRT_NamedValue_kInt64;
  attribute.int64_value = seen_struct_size;
  attribute.value_size = 1;
  args->attributes = &attribute;
  args->num_attributes = 1;
  return NULL;
}

static PJRT_Api api = {
    .struct_size = PJRT_Api_STRUCT_SIZE,
    .pjrt_api_version = {.struct_size = PJRT_Api_Version_STRUCT_SIZE, .major_version = PJRT_API_MAJOR, .minor_version = MINOR},
    .PJRT_Error_Destroy = error_destroy,
    .PJRT_Error_Message = error_message,
    .PJRT_Error_GetCode = error_get_code,
    .PJRT_Plugin_Initialize = plugin_initialize,
    .PJRT_Plugin_Attributes = plugin_attributes,
};

const PJRT_Api* GetPjrtApi(void) { return &api; }

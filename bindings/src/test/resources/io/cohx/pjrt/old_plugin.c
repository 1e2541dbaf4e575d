/* A stand-in "plugin" for VersionTest: exports GetPjrtApi with a chosen API version and a table
 * of NULL function pointers, built by the test with gcc. Never initialised or called beyond the
 * version check, which is exactly what the test exercises. */
#include <stddef.h>
#include <stdint.h>

#ifndef MINOR
#define MINOR 40
#endif
#ifndef SLOTS
#define SLOTS 118
#endif

struct fake_api {
  size_t struct_size;
  void* extension_start;
  size_t version_struct_size;
  void* version_extension_start;
  int major_version;
  int minor_version;
  void* functions[SLOTS];
};

static struct fake_api api = {sizeof(struct fake_api), NULL, 24, NULL, 0, MINOR, {0}};

const void* GetPjrtApi(void) { return &api; }

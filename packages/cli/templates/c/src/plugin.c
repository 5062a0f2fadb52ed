// A Tenon plug-in in C, against @tenon/pdk's tenon.h (the Extism ABI). Build: npm run build.
// Each function exported with TENON_EXPORT takes no arguments and returns 0 on success.
#include "tenon.h"

#define MAX_NAME 256

// Answers "Hello, <input>!"; fails when the input is empty or too long.
TENON_EXPORT(greet) int32_t greet(void) {
  static const char prefix[] = "Hello, ";
  uint8_t text[sizeof prefix - 1 + MAX_NAME + 1];
  for (size_t i = 0; i < sizeof prefix - 1; i++) text[i] = (uint8_t)prefix[i];

  uint8_t *name = text + sizeof prefix - 1;
  uint64_t length = tenon_input(name, MAX_NAME);
  if (length == 0) return tenon_fail("greet needs a name as input");
  if (length > MAX_NAME) return tenon_fail("the name is longer than 256 bytes");
  name[length] = '!';
  tenon_output(text, sizeof prefix - 1 + length + 1);
  return 0;
}

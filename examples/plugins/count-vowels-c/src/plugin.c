// A Tenon plug-in in C, against tenon.h (the Extism ABI). Build: npm run build.
// Each function exported with TENON_EXPORT takes no arguments and returns 0 on success.
#include "tenon.h"

static const char VOWELS[] = "aeiouAEIOU";

static int is_vowel(uint8_t c) {
  for (const char *v = VOWELS; *v; v++)
    if (*v == c) return 1;
  return 0;
}

// Counts the vowels of the input and answers {"count": n}.
TENON_EXPORT(count_vowels) int32_t count_vowels(void) {
  uint64_t length = tenon_input_length();
  uint64_t count = 0;
  for (uint64_t i = 0; i < length; i++) count += is_vowel(tenon_input_load_u8(i));

  char json[32] = "{\"count\":";
  size_t n = 9;
  char digits[20];
  size_t d = 0;
  do {
    digits[d++] = (char)('0' + count % 10);
    count /= 10;
  } while (count);
  while (d) json[n++] = digits[--d];
  json[n++] = '}';
  tenon_output(json, n);
  return 0;
}

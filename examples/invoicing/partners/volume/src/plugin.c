// The volume-pricing partner, in C against tenon.h: a discount on every invoice line bought in
// bulk. No libc: a small JSON reader for the invoice, and a writer for the answer.
#include "tenon.h"

#define MAX_INPUT 65536
#define MAX_OUTPUT 16384

static uint8_t input[MAX_INPUT];
static char output[MAX_OUTPUT];

// --- Reading: a cursor over the input, enough JSON to walk the invoice and skip what it does not need.

typedef struct {
  const uint8_t *at;
  const uint8_t *end;
  int ok;
} reader;

static void skip_space(reader *r) {
  while (r->at < r->end && (*r->at == ' ' || *r->at == '\n' || *r->at == '\r' || *r->at == '\t')) r->at++;
}

static int expect(reader *r, uint8_t c) {
  skip_space(r);
  if (r->at < r->end && *r->at == c) {
    r->at++;
    return 1;
  }
  r->ok = 0;
  return 0;
}

static int peek(reader *r, uint8_t c) {
  skip_space(r);
  return r->at < r->end && *r->at == c;
}

// Reads a string and reports whether it equals `key` (escapes compare as written, which is enough
// for the keys this plug-in looks for).
static int read_string_is(reader *r, const char *key) {
  if (!expect(r, '"')) return 0;
  const char *k = key;
  int same = 1;
  while (r->at < r->end && *r->at != '"') {
    if (*r->at == '\\') {
      same = 0;
      r->at++;
    }
    if (*k && (uint8_t)*k == *r->at) k++;
    else same = 0;
    r->at++;
  }
  if (!expect(r, '"')) return 0;
  return same && *k == 0;
}

static int64_t read_integer(reader *r) {
  skip_space(r);
  int negative = r->at < r->end && *r->at == '-';
  if (negative) r->at++;
  if (r->at >= r->end || *r->at < '0' || *r->at > '9') {
    r->ok = 0;
    return 0;
  }
  int64_t value = 0;
  while (r->at < r->end && *r->at >= '0' && *r->at <= '9') value = value * 10 + (*r->at++ - '0');
  return negative ? -value : value;
}

static void skip_value(reader *r, int depth) {
  skip_space(r);
  if (r->at >= r->end || depth > 32) {
    r->ok = 0;
    return;
  }
  uint8_t c = *r->at;
  if (c == '"') {
    read_string_is(r, "");
  } else if (c == '{' || c == '[') {
    uint8_t close = c == '{' ? '}' : ']';
    r->at++;
    if (peek(r, close)) {
      r->at++;
      return;
    }
    do {
      if (c == '{') {
        read_string_is(r, "");
        expect(r, ':');
      }
      skip_value(r, depth + 1);
    } while (r->ok && peek(r, ',') && r->at++);
    expect(r, close);
  } else {
    while (r->at < r->end && *r->at != ',' && *r->at != '}' && *r->at != ']') r->at++;
  }
}

// --- Writing: append to the output buffer; `full` turns every later append into a no-op.

typedef struct {
  uint64_t length;
  int full;
} writer;

static void put(writer *w, const char *text) {
  for (; *text; text++) {
    if (w->length == MAX_OUTPUT) {
      w->full = 1;
      return;
    }
    output[w->length++] = *text;
  }
}

static void put_integer(writer *w, int64_t value) {
  char digits[21];
  int n = 0;
  uint64_t v = value < 0 ? (uint64_t)-value : (uint64_t)value;
  do {
    digits[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  char text[23];
  int t = 0;
  if (value < 0) text[t++] = '-';
  while (n) text[t++] = digits[--n];
  text[t] = 0;
  put(w, text);
}

// --- The rule: 10 units or more on a line take 5% off that line, 50 or more take 10%.

static int discount_line(writer *w, int first, int64_t line, int64_t quantity, int64_t amount) {
  int64_t basis_points = quantity >= 50 ? 1000 : quantity >= 10 ? 500 : 0;
  int64_t off = amount * basis_points / 10000;
  if (off <= 0) return 0;
  if (!first) put(w, ",");
  put(w, quantity >= 50 ? "{\"code\":\"VOLUME_50\"" : "{\"code\":\"VOLUME_10\"");
  put(w, ",\"amount_cents\":");
  put_integer(w, off);
  put(w, ",\"line\":");
  put_integer(w, line);
  put(w, ",\"reason\":\"");
  put_integer(w, quantity);
  put(w, basis_points == 1000 ? " units: 10%\"}" : " units: 5%\"}");
  return 1;
}

TENON_EXPORT(discounts) int32_t discounts(void) {
  uint64_t length = tenon_input(input, MAX_INPUT);
  if (length > MAX_INPUT) return tenon_fail("invoice is over 64 KiB");
  reader r = {input, input + length, 1};
  writer w = {0, 0};
  put(&w, "{\"discounts\":[");
  int first = 1;

  expect(&r, '{');
  while (r.ok && !peek(&r, '}')) {
    if (!read_string_is(&r, "lines")) {
      expect(&r, ':');
      skip_value(&r, 0);
    } else {
      expect(&r, ':');
      expect(&r, '[');
      for (int64_t line = 0; r.ok && !peek(&r, ']'); line++) {
        int64_t quantity = 0, amount = 0;
        expect(&r, '{');
        while (r.ok && !peek(&r, '}')) {
          int is_quantity = 0, is_amount = 0;
          const uint8_t *key = r.at;
          is_quantity = read_string_is(&r, "quantity");
          if (!is_quantity) {
            r.at = key;
            is_amount = read_string_is(&r, "amount_cents");
          }
          expect(&r, ':');
          if (is_quantity) quantity = read_integer(&r);
          else if (is_amount) amount = read_integer(&r);
          else skip_value(&r, 1);
          if (peek(&r, ',')) r.at++;
        }
        expect(&r, '}');
        if (discount_line(&w, first, line, quantity, amount)) first = 0;
        if (peek(&r, ',')) r.at++;
      }
      expect(&r, ']');
    }
    if (peek(&r, ',')) r.at++;
  }
  if (!r.ok) return tenon_fail("invoice is not the JSON this partner expects");
  put(&w, "]}");
  if (w.full) return tenon_fail("too many discounts for one answer");
  tenon_output(output, w.length);
  return 0;
}

// Strict JSON input: the input is checked as JSON, then walked against the declared types of the
// target (the `__TENON_CHECK` methods that @tenon/pdk/transform generates for `@json` classes)
// before json-as decodes it. json-as trusts its input, so without this walk 10.7 read into an
// i32 wraps to a large number, "10" read as a number is 0, a missing key keeps the field's
// default and a wrong shape traps with json-as's own message.
//
// The walk reads the text in place and allocates only an index of each object's keys, so that its
// fuel stays a fraction of json-as's own decode (bench/strict-json.ts); paths and messages are
// built only on the way out of a failure.

import { JSON } from "json-as";

@inline
function char(text: string, i: i32): u32 {
  return <u32>load<u16>(changetype<usize>(text) + (<usize>i << 1));
}

/** How deep objects and arrays may nest in strict input; json-as recurses on its own stack. */
const MAX_DEPTH = 64;

/** A cursor over JSON text; `value` moves past one value, checking its syntax. */
export class Scan {
  at: i32 = 0;
  error: string | null = null;
  /** Objects and arrays open around `at`. */
  depth: i32 = 0;
  /** Numbers only: the last number had no fraction or exponent. */
  integral: bool = false;
  constructor(public text: string) {}

  fail(what: string): void {
    if (this.error != null) return;
    const near = this.at < this.text.length ? 'at "' + this.text.substring(this.at, this.at + 12) + '"' : "at the end";
    this.error = "input is not valid JSON: " + what + " " + near + " (offset " + this.at.toString() + ")";
  }

  next(): u32 {
    return this.at < this.text.length ? char(this.text, this.at) : 0;
  }

  space(): void {
    const text = this.text;
    const length = text.length;
    let at = this.at;
    while (at < length) {
      const c = char(text, at);
      if (c != 0x20 && c != 0x0a && c != 0x0d && c != 0x09) break;
      at++;
    }
    this.at = at;
  }

  value(depth: i32): void {
    this.space();
    const c = this.next();
    if (c == 0x7b) this.object(depth + 1);
    else if (c == 0x5b) this.array(depth + 1);
    else if (c == 0x22) this.string();
    else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
    else if (!this.word("true") && !this.word("false") && !this.word("null")) this.fail("expected a value");
  }

  word(w: string): bool {
    if (this.at + w.length > this.text.length) return false;
    if (memory.compare(changetype<usize>(this.text) + (<usize>this.at << 1), changetype<usize>(w), <usize>w.length << 1) != 0) return false;
    this.at += w.length;
    return true;
  }

  object(depth: i32): void {
    if (depth > MAX_DEPTH) return this.fail("nested deeper than 64 levels");
    this.at++;
    this.space();
    if (this.next() == 0x7d) {
      this.at++;
      return;
    }
    while (this.error == null) {
      this.space();
      if (this.next() != 0x22) return this.fail("expected a key");
      this.string();
      this.space();
      if (this.next() != 0x3a) return this.fail('expected ":"');
      this.at++;
      this.value(depth);
      this.space();
      const c = this.next();
      if (c == 0x2c) this.at++;
      else if (c == 0x7d) {
        this.at++;
        return;
      } else this.fail('expected "," or "}"');
    }
  }

  array(depth: i32): void {
    if (depth > MAX_DEPTH) return this.fail("nested deeper than 64 levels");
    this.at++;
    this.space();
    if (this.next() == 0x5d) {
      this.at++;
      return;
    }
    while (this.error == null) {
      this.value(depth);
      this.space();
      const c = this.next();
      if (c == 0x2c) this.at++;
      else if (c == 0x5d) {
        this.at++;
        return;
      } else this.fail('expected "," or "]"');
    }
  }

  string(): void {
    const text = this.text;
    const length = text.length;
    let at = this.at + 1;
    while (at < length) {
      const c = char(text, at);
      // most characters: neither the quote, an escape, nor a control character
      if (c > 0x22 && c != 0x5c) {
        at++;
        continue;
      }
      if (c == 0x22) {
        this.at = at + 1;
        return;
      }
      if (c < 0x20) {
        this.at = at;
        return this.fail("control character in a string");
      }
      if (c == 0x5c) {
        const e = at + 1 < text.length ? char(text, at + 1) : 0;
        if (e == 0x75) {
          for (let i = 2; i < 6; i++) {
            const h = at + i < text.length ? char(text, at + i) : 0;
            if (!((h >= 0x30 && h <= 0x39) || (h >= 0x61 && h <= 0x66) || (h >= 0x41 && h <= 0x46))) {
              this.at = at;
              return this.fail("bad \\u escape");
            }
          }
          at += 6;
        } else if (e == 0x22 || e == 0x5c || e == 0x2f || e == 0x62 || e == 0x66 || e == 0x6e || e == 0x72 || e == 0x74) {
          at += 2;
        } else {
          this.at = at;
          return this.fail("bad escape");
        }
        continue;
      }
      at++;
    }
    this.at = at;
    this.fail("unterminated string");
  }

  number(): void {
    this.integral = true;
    if (this.next() == 0x2d) this.at++;
    const first = this.at;
    this.digits();
    if (this.at == first) return this.fail("expected a digit");
    if (this.at - first > 1 && char(this.text, first) == 0x30) {
      this.at = first;
      return this.fail("leading zero in a number");
    }
    if (this.next() == 0x2e) {
      this.integral = false;
      this.at++;
      const fraction = this.at;
      this.digits();
      if (this.at == fraction) return this.fail("expected a digit");
    }
    const e = this.next();
    if (e == 0x65 || e == 0x45) {
      this.integral = false;
      this.at++;
      const sign = this.next();
      if (sign == 0x2b || sign == 0x2d) this.at++;
      const exponent = this.at;
      this.digits();
      if (this.at == exponent) this.fail("expected a digit");
    }
  }

  digits(): void {
    const text = this.text;
    const length = text.length;
    let at = this.at;
    while (at < length) {
      const c = char(text, at);
      if (c < 0x30 || c > 0x39) break;
      at++;
    }
    this.at = at;
  }
}

/** Where the value at `start` ends (for quoting it in a message). */
function valueEnd(scan: Scan, start: i32): i32 {
  scan.at = start;
  scan.value(scan.depth);
  return scan.at;
}

/** Why a value does not fit; `path` grows by one key or index on each level of the way out. */
export class Misfit {
  constructor(
    public path: string,
    public message: string,
  ) {}

  within(key: string): Misfit {
    this.path = this.path.length == 0 ? key : this.path.charCodeAt(0) == 0x5b ? key + this.path : key + "." + this.path;
    return this;
  }

  toString(): string {
    return (this.path.length == 0 ? "input" : 'input field "' + this.path + '"') + " " + this.message;
  }
}

function wrong(scan: Scan, start: i32, expected: string): Misfit {
  const end = valueEnd(scan, start);
  const raw = scan.text.substring(start, end);
  return new Misfit("", "must be " + expected + ", got " + (raw.length > 40 ? raw.substring(0, 37) + "..." : raw));
}

function hasBackslash(text: string, start: i32, end: i32): bool {
  for (let i = start; i < end; i++) if (char(text, i) == 0x5c) return true;
  return false;
}

/** Walks a JSON object against the fields of a `@json` class; the generated `__TENON_CHECK` calls `field`. */
export class FieldChecker {
  misfit: Misfit | null = null;
  /** keyStart, keyEnd (inside the quotes), valueStart for each key of the object, in order. */
  index: i32[] = [];
  /** Just past the object's closing brace. */
  end: i32 = 0;

  constructor(
    public scan: Scan,
    start: i32,
  ) {
    this.read(start);
  }

  /** Indexes the object's keys, checking its syntax (values of keys the class does not declare are only skipped). */
  private read(start: i32): void {
    const scan = this.scan;
    scan.at = start + 1;
    scan.space();
    if (scan.next() == 0x7d) {
      this.end = ++scan.at;
      return;
    }
    while (scan.error == null) {
      scan.space();
      if (scan.next() != 0x22) return scan.fail("expected a key");
      const keyStart = scan.at + 1;
      scan.string();
      this.index.push(keyStart);
      this.index.push(scan.at - 1);
      scan.space();
      if (scan.next() != 0x3a) return scan.fail('expected ":"');
      scan.at++;
      scan.space();
      this.index.push(scan.at);
      scan.value(scan.depth);
      scan.space();
      const c = scan.next();
      if (c == 0x2c) scan.at++;
      else if (c == 0x7d) {
        this.end = ++scan.at;
        return;
      } else scan.fail('expected "," or "}"');
    }
  }

  /** Where the value of `key` starts, or -1; the last of repeated keys wins, as in JSON.parse. */
  find(key: string): i32 {
    const text = this.scan.text;
    const keyBytes = <usize>key.length << 1;
    for (let i = this.index.length - 3; i >= 0; i -= 3) {
      const start = unchecked(this.index[i]);
      const end = unchecked(this.index[i + 1]);
      if (hasBackslash(text, start, end)) {
        // an escaped key: compare it decoded, through json-as's own string decoder
        if (JSON.parse<string>(text.substring(start - 1, end + 1)) == key) return unchecked(this.index[i + 2]);
      } else if (end - start == key.length && memory.compare(changetype<usize>(text) + (<usize>start << 1), changetype<usize>(key), keyBytes) == 0) {
        return unchecked(this.index[i + 2]);
      }
    }
    return -1;
  }

  field<F>(key: string, optional: bool): void {
    if (this.misfit != null) return;
    const start = this.find(key);
    if (start < 0) {
      if (!optional) this.misfit = new Misfit(key, "is missing");
      return;
    }
    const misfit = checkValue<F>(this.scan, start);
    if (misfit != null) this.misfit = misfit.within(key);
  }
}

/** Whether the integral JSON number between `start` and `end` fits an `F`. */
function integerFits<F>(text: string, start: i32, end: i32): bool {
  const negative = char(text, start) == 0x2d;
  let magnitude: u64 = 0;
  for (let i = start + (negative ? 1 : 0); i < end; i++) {
    const digit = <u64>(char(text, i) - 0x30);
    if (magnitude > (u64.MAX_VALUE - digit) / 10) return false;
    magnitude = magnitude * 10 + digit;
  }
  if (negative && !isSigned<F>()) return magnitude == 0;
  const bits = sizeof<F>() * 8;
  if (isSigned<F>()) {
    const limit: u64 = <u64>1 << (bits - 1);
    return negative ? magnitude <= limit : magnitude < limit;
  }
  return bits == 64 || magnitude < <u64>1 << bits;
}

/**
 * Null when the JSON value at `start` can be decoded as an `F` without loss, leaving `scan.at` past
 * it; a syntax error found on the way is left in `scan.error` and takes precedence.
 */
export function checkValue<F>(scan: Scan, start: i32): Misfit | null {
  const text = scan.text;
  scan.at = start;
  const c = scan.next();
  if (isNullable<F>() && c == 0x6e) {
    scan.value(scan.depth);
    return null;
  }
  if (isBoolean<F>()) {
    if (c != 0x74 && c != 0x66) return wrong(scan, start, "true or false");
    scan.value(scan.depth);
  } else if (isInteger<F>()) {
    if (c != 0x2d && (c < 0x30 || c > 0x39)) return wrong(scan, start, "an integer (" + nameof<F>() + ")");
    scan.number();
    if (scan.error != null) return null;
    if (!scan.integral) return wrong(scan, start, "an integer (" + nameof<F>() + ")");
    if (!integerFits<F>(text, start, scan.at)) return wrong(scan, start, "an integer that fits " + nameof<F>());
  } else if (isFloat<F>()) {
    if (c != 0x2d && (c < 0x30 || c > 0x39)) return wrong(scan, start, "a number");
    scan.number();
  } else if (isString<F>()) {
    if (c != 0x22) return wrong(scan, start, "a string");
    scan.string();
  } else if (isArray<F>()) {
    if (c != 0x5b) return wrong(scan, start, "an array");
    if (++scan.depth > MAX_DEPTH) {
      scan.fail("nested deeper than 64 levels");
      return null;
    }
    scan.at++;
    scan.space();
    if (scan.next() == 0x5d) scan.at++;
    else {
      for (let i = 0; scan.error == null; i++) {
        scan.space();
        const misfit = checkValue<valueof<F>>(scan, scan.at);
        if (misfit != null) return misfit.within("[" + i.toString() + "]");
        scan.space();
        const next = scan.next();
        if (next == 0x2c) scan.at++;
        else if (next == 0x5d) {
          scan.at++;
          break;
        } else scan.fail('expected "," or "]"');
      }
    }
    scan.depth--;
  } else if (isReference<F>()) {
    const sentinel = changetype<nonnull<F>>(0);
    // @ts-expect-error: generated by @tenon/pdk/transform
    if (isDefined(sentinel.__TENON_CHECK)) {
      if (c != 0x7b) return wrong(scan, start, "an object");
      if (++scan.depth > MAX_DEPTH) {
        scan.fail("nested deeper than 64 levels");
        return null;
      }
      const checker = new FieldChecker(scan, start);
      if (scan.error != null) return null;
      // generated methods never read `this`, as json-as's own generated matchers do not
      // @ts-expect-error: generated by @tenon/pdk/transform
      sentinel.__TENON_CHECK<FieldChecker>(checker);
      scan.at = checker.end;
      scan.depth--;
      return checker.misfit;
    }
    // @ts-expect-error: generated by json-as
    if (isDefined(sentinel.__SERIALIZE)) {
      ERROR('@tenon/pdk: a @json class has no strict check; add "@tenon/pdk/transform" after "json-as" in asconfig.json\'s transforms');
    }
    // json-as's dynamic values (JSON.Value, JSON.Obj, JSON.Raw) and maps take any JSON
    scan.value(scan.depth);
  } else {
    scan.value(scan.depth);
  }
  return null;
}

/** The reason `text` cannot be decoded as a `T` without loss (its first problem), or null when it can. */
export function strictMisfit<T>(text: string): string | null {
  const scan = new Scan(text);
  scan.space();
  const misfit = checkValue<T>(scan, scan.at);
  if (scan.error == null && misfit == null) {
    scan.space();
    if (scan.at < text.length) scan.fail("unexpected text after the value");
  }
  if (scan.error != null) return scan.error;
  return misfit == null ? null : misfit.toString();
}

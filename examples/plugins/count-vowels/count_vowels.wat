;; count_vowels: the "hello world" of Extism plug-ins, written by hand against the ABI.
;; Input: any text. Output: {"count":N,"vowels":"aeiouAEIOU"} as JSON.
;;
;; Everything it imports is served by Tenon's kernel, so none of these calls leaves WebAssembly.
(module
  (import "extism:host/env" "input_length" (func $input_length (result i64)))
  (import "extism:host/env" "input_load_u64" (func $input_load_u64 (param i64) (result i64)))
  (import "extism:host/env" "input_load_u8" (func $input_load_u8 (param i64) (result i32)))
  (import "extism:host/env" "alloc" (func $alloc (param i64) (result i64)))
  (import "extism:host/env" "store_u8" (func $store_u8 (param i64 i32)))
  (import "extism:host/env" "output_set" (func $output_set (param i64 i64)))

  (memory (export "memory") 1)
  ;; the output's fixed parts
  (data (i32.const 0) "{\"count\":")
  (data (i32.const 16) ",\"vowels\":\"aeiouAEIOU\"}")

  (func $is_vowel (param $c i32) (result i32)
    (local.set $c (i32.or (local.get $c) (i32.const 0x20))) ;; lower-case ASCII letters
    (i32.or
      (i32.or (i32.eq (local.get $c) (i32.const 0x61)) (i32.eq (local.get $c) (i32.const 0x65)))
      (i32.or (i32.eq (local.get $c) (i32.const 0x69))
              (i32.or (i32.eq (local.get $c) (i32.const 0x6f)) (i32.eq (local.get $c) (i32.const 0x75))))))

  ;; Reads the input eight bytes at a time, then the tail byte by byte.
  (func $count (result i64)
    (local $n i64) (local $i i64) (local $word i64) (local $j i32) (local $count i64)
    (local.set $n (call $input_length))
    (block $words_done
      (loop $words
        (br_if $words_done (i64.gt_u (i64.add (local.get $i) (i64.const 8)) (local.get $n)))
        (local.set $word (call $input_load_u64 (local.get $i)))
        (local.set $j (i32.const 0))
        (loop $bytes
          (local.set $count (i64.add (local.get $count)
            (i64.extend_i32_u (call $is_vowel (i32.wrap_i64 (i64.and (local.get $word) (i64.const 0xff)))))))
          (local.set $word (i64.shr_u (local.get $word) (i64.const 8)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br_if $bytes (i32.lt_u (local.get $j) (i32.const 8))))
        (local.set $i (i64.add (local.get $i) (i64.const 8)))
        (br $words)))
    (block $tail_done
      (loop $tail
        (br_if $tail_done (i64.ge_u (local.get $i) (local.get $n)))
        (local.set $count (i64.add (local.get $count)
          (i64.extend_i32_u (call $is_vowel (call $input_load_u8 (local.get $i))))))
        (local.set $i (i64.add (local.get $i) (i64.const 1)))
        (br $tail)))
    (local.get $count))

  ;; Copies [from, from + len) of this module's memory into Extism memory at $to.
  (func $copy (param $to i64) (param $from i32) (param $len i32)
    (local $k i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $k) (local.get $len)))
        (call $store_u8 (i64.add (local.get $to) (i64.extend_i32_u (local.get $k)))
                        (i32.load8_u (i32.add (local.get $from) (local.get $k))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $next))))

  ;; Writes the decimal digits of $value at memory 64.., returns how many.
  (func $digits (param $value i64) (result i32)
    (local $len i32) (local $k i32) (local $tmp i64)
    (local.set $tmp (local.get $value))
    (loop $measure
      (local.set $len (i32.add (local.get $len) (i32.const 1)))
      (local.set $tmp (i64.div_u (local.get $tmp) (i64.const 10)))
      (br_if $measure (i64.ne (local.get $tmp) (i64.const 0))))
    (local.set $k (local.get $len))
    (loop $write
      (local.set $k (i32.sub (local.get $k) (i32.const 1)))
      (i32.store8 (i32.add (i32.const 64) (local.get $k))
                  (i32.add (i32.const 0x30) (i32.wrap_i64 (i64.rem_u (local.get $value) (i64.const 10)))))
      (local.set $value (i64.div_u (local.get $value) (i64.const 10)))
      (br_if $write (i32.ne (local.get $k) (i32.const 0))))
    (local.get $len))

  (func (export "count_vowels") (result i32)
    (local $digits i32) (local $out i64)
    (local.set $digits (call $digits (call $count)))
    ;; 9 bytes of prefix, the digits, 23 bytes of suffix
    (local.set $out (call $alloc (i64.extend_i32_u (i32.add (local.get $digits) (i32.const 32)))))
    (call $copy (local.get $out) (i32.const 0) (i32.const 9))
    (call $copy (i64.add (local.get $out) (i64.const 9)) (i32.const 64) (local.get $digits))
    (call $copy (i64.add (local.get $out) (i64.extend_i32_u (i32.add (local.get $digits) (i32.const 9))))
                (i32.const 16) (i32.const 23))
    (call $output_set (local.get $out) (i64.extend_i32_u (i32.add (local.get $digits) (i32.const 32))))
    (i32.const 0))
)

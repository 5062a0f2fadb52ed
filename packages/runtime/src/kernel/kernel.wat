;; Tenon's Extism-ABI kernel.
;;
;; Plug-ins import `extism:host/env` and are linked straight to these exports, so a plug-in's
;; alloc/load/store/input/output calls stay inside WebAssembly: no JavaScript, no BigInt.
;; Only capabilities that need the host (config, vars, HTTP, logs that pass the level) call
;; out to the "host" imports, with offsets narrowed to i32.
;;
;; Extism memory is this module's own linear memory (imported, so the host can cap its size):
;;
;;   0 .. 127     reserved: offset 0 is the ABI's null, nothing here is addressable by plug-ins
;;   128 .. 255   free-list heads, one u32 per size class (class c holds capacities in [2^c, 2^(c+1))),
;;                valid only while the class's bit is set in $nonempty
;;   256 ..       blocks, back to back up to $heap_end
;;
;; A block is a 16-byte header then its data; a block's offset (the ABI handle) is the address of
;; its data, always 8-aligned:
;;
;;   h+0  u32 tag       ACTIVE or FREE (a magic, so wild offsets rarely pass for blocks)
;;   h+4  u32 capacity  data bytes available, a multiple of 8
;;   h+8  u32 used      bytes requested: what `length` reports
;;   h+12 u32 next      next free block in its class list (when free)
;;
;; Every offset and length from a plug-in is checked: reads outside memory return 0 and writes are
;; dropped (real plug-ins read past their input's end and rely on getting 0), and the heap's
;; bookkeeping below 256 can be neither read nor written.
(module
  (import "host" "memory" (memory $mem 1))
  (import "host" "config_get" (func $host_config_get (param i32) (result i32)))
  (import "host" "var_get" (func $host_var_get (param i32) (result i32)))
  (import "host" "var_set" (func $host_var_set (param i32 i32)))
  (import "host" "log" (func $host_log (param i32 i32)))
  (import "host" "http_request" (func $host_http_request (param i32 i32) (result i32)))
  (import "host" "http_headers" (func $host_http_headers (result i32)))

  (global $ACTIVE i32 (i32.const 0x6b6c6231)) ;; "1blk"
  (global $FREE i32 (i32.const 0x6b6c6230))   ;; "0blk"
  (global $HEAP i32 (i32.const 256))

  (global $heap_end (mut i32) (i32.const 256))
  (global $nonempty (mut i32) (i32.const 0))
  ;; Memory size in bytes minus 256 and minus 264: the single unsigned compare bounds for
  ;; 1-byte and 8-byte accesses ((p - 256) < span).
  (global $span1 (mut i64) (i64.const 0))
  (global $span8 (mut i64) (i64.const 0))
  (global $mem_end (mut i32) (i32.const 0))

  (global $input_off (mut i32) (i32.const 0))
  (global $input_len (mut i64) (i64.const 0))
  (global $output_off (mut i64) (i64.const 0))
  (global $output_len (mut i64) (i64.const 0))
  (global $error_off (mut i64) (i64.const 0))
  (global $log_level (mut i32) (i32.const 0x7fffffff))
  (global $http_status (mut i32) (i32.const 0))

  (start $measure)

  (func $measure
    (local $bytes i64)
    (local.set $bytes (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (global.set $mem_end (i32.wrap_i64 (local.get $bytes)))
    (global.set $span1 (i64.sub (local.get $bytes) (i64.const 256)))
    (global.set $span8 (i64.sub (local.get $bytes) (i64.const 263))))

  ;; A plug-in offset as an i32 for the host; anything past 4 GiB becomes an invalid handle
  ;; (-1 is never 8-aligned) rather than wrapping onto a real block, and never 0 (null).
  (func $narrow (param $p i64) (result i32)
    (if (result i32) (i64.lt_u (local.get $p) (i64.const 0x100000000))
      (then (i32.wrap_i64 (local.get $p)))
      (else (i32.const -1))))

  ;; ---- allocator ----------------------------------------------------------------------------

  (func $class (param $cap i32) (result i32)
    (i32.sub (i32.const 31) (i32.clz (local.get $cap))))

  (func $head_addr (param $class i32) (result i32)
    (i32.add (i32.const 128) (i32.shl (local.get $class) (i32.const 2))))

  (func $push_free (param $h i32)
    (local $class i32)
    (local $head i32)
    (local.set $class (call $class (i32.load offset=4 (local.get $h))))
    (local.set $head (call $head_addr (local.get $class)))
    (i32.store (local.get $h) (global.get $FREE))
    ;; a head whose $nonempty bit is clear is stale (reset only clears the bits)
    (i32.store offset=12 (local.get $h)
      (select (i32.load (local.get $head)) (i32.const 0)
              (i32.and (global.get $nonempty) (i32.shl (i32.const 1) (local.get $class)))))
    (i32.store (local.get $head) (local.get $h))
    (global.set $nonempty (i32.or (global.get $nonempty) (i32.shl (i32.const 1) (local.get $class)))))

  ;; Unlink the block after the link at $prev (a list head or a block's next field).
  (func $unlink (param $class i32) (param $prev i32) (param $h i32)
    (i32.store (local.get $prev) (i32.load offset=12 (local.get $h)))
    (if (i32.eqz (i32.load (call $head_addr (local.get $class))))
      (then (global.set $nonempty
              (i32.and (global.get $nonempty) (i32.xor (i32.shl (i32.const 1) (local.get $class)) (i32.const -1)))))))

  ;; Header address of the active block whose data starts at $p, or 0.
  (func $block (param $p i64) (result i32)
    (local $h i32)
    (if (i32.or (i64.lt_u (local.get $p) (i64.const 272))
                (i64.ge_u (local.get $p) (i64.extend_i32_u (global.get $heap_end))))
      (then (return (i32.const 0))))
    (if (i32.and (i32.wrap_i64 (local.get $p)) (i32.const 7)) (then (return (i32.const 0))))
    (local.set $h (i32.sub (i32.wrap_i64 (local.get $p)) (i32.const 16)))
    (if (i32.ne (i32.load (local.get $h)) (global.get $ACTIVE)) (then (return (i32.const 0))))
    ;; a header forged inside another block's data must still lie within the heap
    (if (i64.gt_u (i64.add (i64.extend_i32_u (i32.wrap_i64 (local.get $p)))
                           (i64.extend_i32_u (i32.load offset=4 (local.get $h))))
                  (i64.extend_i32_u (global.get $heap_end)))
      (then (return (i32.const 0))))
    (local.get $h))

  ;; Grow memory so that [0, $end) is addressable; doubles when it can to keep grows rare.
  (func $ensure (param $end i64) (result i32)
    (local $need i32)
    (local $pages i32)
    (if (i64.le_u (local.get $end) (i64.extend_i32_u (global.get $mem_end)))
      (then (return (i32.const 1))))
    (if (i64.gt_u (local.get $end) (i64.const 0x100000000)) (then (return (i32.const 0))))
    (local.set $need
      (i32.wrap_i64 (i64.shr_u (i64.add (i64.sub (local.get $end) (i64.extend_i32_u (global.get $mem_end)))
                                        (i64.const 0xffff))
                               (i64.const 16))))
    (local.set $pages (memory.size))
    (if (i32.lt_u (local.get $pages) (local.get $need)) (then (local.set $pages (local.get $need))))
    (if (i32.eq (memory.grow (local.get $pages)) (i32.const -1))
      (then
        (if (i32.eq (memory.grow (local.get $need)) (i32.const -1))
          (then (return (i32.const 0))))))
    (call $measure)
    (i32.const 1))

  (func $alloc32 (param $n i64) (result i32)
    (local $cap i32)
    (local $class i32)
    (local $prev i32)
    (local $h i32)
    (local $bcap i32)
    (local $scan i32)
    (local $rest i32)
    (local $larger i32)
    (if (i64.eqz (local.get $n)) (then (return (i32.const 0))))
    (if (i64.gt_u (local.get $n) (i64.const 0xfffffe00)) (then (return (i32.const 0))))
    (local.set $cap (i32.and (i32.add (i32.wrap_i64 (local.get $n)) (i32.const 7)) (i32.const -8)))
    (local.set $class (call $class (local.get $cap)))

    ;; Bump while the block fits in memory as it is. Freed blocks are reused only when memory
    ;; would otherwise have to grow, as in Extism's own kernel: a block stays readable after
    ;; `free` for as long as possible, so plug-ins that read a block after freeing it, or free a
    ;; block the host already freed, keep working.
    ;; Then: first fit in the block's own class (bounded scan), else the head of the smallest
    ;; larger class that has one ($nonempty has a bit per class with free blocks).
    (if (i32.and (i32.ne (global.get $nonempty) (i32.const 0))
                 (i64.gt_u (i64.add (i64.extend_i32_u (global.get $heap_end))
                                    (i64.extend_i32_u (i32.add (local.get $cap) (i32.const 16))))
                           (i64.extend_i32_u (global.get $mem_end))))
      (then
        (if (i32.and (global.get $nonempty) (i32.shl (i32.const 1) (local.get $class)))
          (then
            (local.set $prev (call $head_addr (local.get $class)))
            (local.set $h (i32.load (local.get $prev)))
            (local.set $scan (i32.const 16))
            (block $found
              (loop $same_class
                (br_if $found (i32.eqz (local.get $h)))
                (if (i32.ge_u (i32.load offset=4 (local.get $h)) (local.get $cap))
                  (then
                    (call $unlink (local.get $class) (local.get $prev) (local.get $h))
                    (br $found)))
                (local.set $scan (i32.sub (local.get $scan) (i32.const 1)))
                (if (i32.eqz (local.get $scan)) (then (local.set $h (i32.const 0)) (br $found)))
                (local.set $prev (i32.add (local.get $h) (i32.const 12)))
                (local.set $h (i32.load offset=12 (local.get $h)))
                (br $same_class)))))
        (if (i32.and (i32.eqz (local.get $h)) (i32.lt_u (local.get $class) (i32.const 31)))
          (then
            (local.set $larger (i32.and (global.get $nonempty)
                                        (i32.shl (i32.const -1) (i32.add (local.get $class) (i32.const 1)))))
            (if (local.get $larger)
              (then
                (local.set $class (i32.ctz (local.get $larger)))
                (local.set $prev (call $head_addr (local.get $class)))
                (local.set $h (i32.load (local.get $prev)))
                (call $unlink (local.get $class) (local.get $prev) (local.get $h))))))))

    (if (local.get $h)
      (then
        ;; Split off the tail when it is worth a block of its own.
        (local.set $bcap (i32.load offset=4 (local.get $h)))
        (if (i32.ge_u (local.get $bcap) (i32.add (local.get $cap) (i32.const 80)))
          (then
            (local.set $rest (i32.add (i32.add (local.get $h) (i32.const 16)) (local.get $cap)))
            (i32.store offset=4 (local.get $rest) (i32.sub (i32.sub (local.get $bcap) (local.get $cap)) (i32.const 16)))
            (call $push_free (local.get $rest))
            (i32.store offset=4 (local.get $h) (local.get $cap)))))
      (else
        (local.set $h (global.get $heap_end))
        (if (i32.eqz (call $ensure (i64.add (i64.extend_i32_u (local.get $h))
                                            (i64.extend_i32_u (i32.add (local.get $cap) (i32.const 16))))))
          (then (return (i32.const 0))))
        (global.set $heap_end (i32.add (i32.add (local.get $h) (i32.const 16)) (local.get $cap)))
        (i32.store offset=4 (local.get $h) (local.get $cap))))
    (i32.store (local.get $h) (global.get $ACTIVE))
    (i32.store offset=8 (local.get $h) (i32.wrap_i64 (local.get $n)))
    (i32.add (local.get $h) (i32.const 16)))

  (func $free32 (param $p i64)
    (local $h i32)
    (local.set $h (call $block (local.get $p)))
    (if (i32.eqz (local.get $h)) (then (return)))
    (if (i32.eq (local.get $h) (i32.sub (global.get $input_off) (i32.const 16)))
      (then (global.set $input_len (i64.const 0))))
    (call $push_free (local.get $h)))

  (func $reset
    (global.set $heap_end (global.get $HEAP))
    (global.set $nonempty (i32.const 0))
    (global.set $input_off (i32.const 0))
    (global.set $input_len (i64.const 0))
    (global.set $output_off (i64.const 0))
    (global.set $output_len (i64.const 0))
    (global.set $error_off (i64.const 0)))

  ;; ---- extism:host/env, called by plug-ins --------------------------------------------------

  (func (export "alloc") (param $n i64) (result i64)
    (i64.extend_i32_u (call $alloc32 (local.get $n))))

  (func (export "free") (param $p i64)
    (call $free32 (local.get $p)))

  (func $length (export "length") (param $p i64) (result i64)
    (local $h i32)
    (local.set $h (call $block (local.get $p)))
    (if (result i64) (local.get $h)
      (then (i64.extend_i32_u (i32.load offset=8 (local.get $h))))
      (else (i64.const 0))))

  (func (export "length_unsafe") (param $p i64) (result i64)
    (call $length (local.get $p)))

  (func (export "load_u8") (param $p i64) (result i32)
    (if (result i32) (i64.lt_u (i64.sub (local.get $p) (i64.const 256)) (global.get $span1))
      (then (i32.load8_u (i32.wrap_i64 (local.get $p))))
      (else (i32.const 0))))

  (func (export "load_u64") (param $p i64) (result i64)
    (if (result i64) (i64.lt_u (i64.sub (local.get $p) (i64.const 256)) (global.get $span8))
      (then (i64.load (i32.wrap_i64 (local.get $p))))
      (else (i64.const 0))))

  (func (export "store_u8") (param $p i64) (param $v i32)
    (if (i64.lt_u (i64.sub (local.get $p) (i64.const 256)) (global.get $span1))
      (then (i32.store8 (i32.wrap_i64 (local.get $p)) (local.get $v)))))

  (func (export "store_u64") (param $p i64) (param $v i64)
    (if (i64.lt_u (i64.sub (local.get $p) (i64.const 256)) (global.get $span8))
      (then (i64.store (i32.wrap_i64 (local.get $p)) (local.get $v)))))

  (func (export "input_length") (result i64)
    (global.get $input_len))

  (func (export "input_offset") (result i64)
    (i64.extend_i32_u (global.get $input_off)))

  ;; Input positions are relative to the input block.
  (func (export "input_load_u8") (param $k i64) (result i32)
    (if (result i32) (i64.lt_u (local.get $k) (global.get $input_len))
      (then (i32.load8_u (i32.add (global.get $input_off) (i32.wrap_i64 (local.get $k)))))
      (else (i32.const 0))))

  (func (export "input_load_u64") (param $k i64) (result i64)
    (if (result i64) (i32.and (i64.lt_u (local.get $k) (global.get $input_len))
                              (i64.le_u (i64.add (local.get $k) (i64.const 8)) (global.get $input_len)))
      (then (i64.load (i32.add (global.get $input_off) (i32.wrap_i64 (local.get $k)))))
      (else (i64.const 0))))

  ;; Output and error are recorded as given and checked by the host when the call ends, so they
  ;; survive the plug-in freeing their blocks afterwards.
  (func (export "output_set") (param $p i64) (param $len i64)
    (global.set $output_off (local.get $p))
    (global.set $output_len (local.get $len)))

  (func (export "error_set") (param $p i64)
    (global.set $error_off (local.get $p)))

  (func (export "error_get") (result i64)
    (global.get $error_off))

  (func (export "output_offset") (result i64)
    (global.get $output_off))

  (func (export "output_length") (result i64)
    (global.get $output_len))

  (func (export "input_set") (param $p i64) (param $len i64)
    ;; only a range inside the heap may become the input
    (if (i32.and (i32.and (i64.ge_u (local.get $p) (i64.const 256))
                          (i64.lt_u (local.get $p) (i64.extend_i32_u (global.get $heap_end))))
                 (i64.le_u (local.get $len)
                           (i64.sub (i64.extend_i32_u (global.get $heap_end)) (local.get $p))))
      (then
        (global.set $input_off (i32.wrap_i64 (local.get $p)))
        (global.set $input_len (local.get $len)))))

  (func (export "reset")
    (call $reset))

  (func (export "memory_bytes") (result i64)
    (i64.extend_i32_u (global.get $mem_end)))

  (func (export "get_log_level") (result i32)
    (global.get $log_level))

  (func (export "http_status_code") (result i32)
    (global.get $http_status))

  ;; ---- capabilities that need the host -----------------------------------------------------

  (func (export "config_get") (param $key i64) (result i64)
    (i64.extend_i32_u (call $host_config_get (call $narrow (local.get $key)))))

  (func (export "var_get") (param $key i64) (result i64)
    (i64.extend_i32_u (call $host_var_get (call $narrow (local.get $key)))))

  (func (export "var_set") (param $key i64) (param $value i64)
    (call $host_var_set (call $narrow (local.get $key)) (call $narrow (local.get $value))))

  (func (export "http_request") (param $req i64) (param $body i64) (result i64)
    (i64.extend_i32_u (call $host_http_request (call $narrow (local.get $req)) (call $narrow (local.get $body)))))

  (func (export "http_headers") (result i64)
    (i64.extend_i32_u (call $host_http_headers)))

  ;; Logs below the host's level are freed here without a trip to JavaScript.
  (func $log (param $level i32) (param $p i64)
    (if (i32.ge_s (local.get $level) (global.get $log_level))
      (then (call $host_log (local.get $level) (call $narrow (local.get $p))))
      (else (call $free32 (local.get $p)))))

  (func (export "log_trace") (param $p i64) (call $log (i32.const 0) (local.get $p)))
  (func (export "log_debug") (param $p i64) (call $log (i32.const 1) (local.get $p)))
  (func (export "log_info") (param $p i64) (call $log (i32.const 2) (local.get $p)))
  (func (export "log_warn") (param $p i64) (call $log (i32.const 3) (local.get $p)))
  (func (export "log_error") (param $p i64) (call $log (i32.const 4) (local.get $p)))

  ;; ---- for the host (i32 offsets: no BigInt on the JavaScript side) --------------------------

  ;; Start a call: forget every block, then place an input of $len bytes.
  ;; Returns the input's offset (0 for empty input) or -1 when memory cannot hold it.
  (func (export "host_begin") (param $len i32) (result i32)
    (local $p i32)
    (call $reset)
    (if (i32.eqz (local.get $len)) (then (return (i32.const 0))))
    (local.set $p (call $alloc32 (i64.extend_i32_u (local.get $len))))
    (if (i32.eqz (local.get $p)) (then (return (i32.const -1))))
    (global.set $input_off (local.get $p))
    (global.set $input_len (i64.extend_i32_u (local.get $len)))
    (local.get $p))

  ;; Start over as a new kernel would: forget every block and zero every byte a plug-in can reach
  ;; (256 .. memory's end: plug-ins may store past the heap's end), so nothing of one instance's
  ;; calls can be read by the next (`instance: 'fresh'`, a pooled kernel). The memory keeps its size.
  (func (export "host_wipe")
    (call $reset)
    (memory.fill (i32.const 256) (i32.const 0) (i32.sub (global.get $mem_end) (i32.const 256)))
    (global.set $http_status (i32.const 0)))

  ;; Detach every JavaScript view of Extism memory: a grow, even by 0 pages, gives the memory a new
  ;; ArrayBuffer and detaches the old one (JS API: "refresh the memory buffer"). The instruction
  ;; costs about half what Memory.prototype.grow(0) does when JavaScript calls it (~220 ns against ~450 ns).
  (func (export "host_detach_views")
    (drop (memory.grow (i32.const 0))))

  (func (export "host_alloc") (param $n i32) (result i32)
    (call $alloc32 (i64.extend_i32_u (local.get $n))))

  ;; A block of $n zeroed bytes for the host to fill (a reused free block still holds old bytes).
  (func (export "host_alloc_zeroed") (param $n i32) (result i32)
    (local $p i32)
    (local.set $p (call $alloc32 (i64.extend_i32_u (local.get $n))))
    (if (local.get $p) (then (memory.fill (local.get $p) (i32.const 0) (local.get $n))))
    (local.get $p))

  (func (export "host_free") (param $p i32)
    (call $free32 (i64.extend_i32_u (local.get $p))))

  (func (export "host_length") (param $p i32) (result i32)
    (i32.wrap_i64 (call $length (i64.extend_i32_u (local.get $p)))))

  ;; The output's offset if [offset, offset + length) lies in memory (0 when empty), else -1.
  (func (export "host_output") (result i32)
    (if (i64.eqz (global.get $output_len)) (then (return (i32.const 0))))
    (if (i32.or (i64.lt_u (global.get $output_off) (i64.const 256))
                (i64.ge_u (global.get $output_off) (i64.extend_i32_u (global.get $mem_end))))
      (then (return (i32.const -1))))
    (if (i64.gt_u (global.get $output_len)
                  (i64.sub (i64.extend_i32_u (global.get $mem_end)) (global.get $output_off)))
      (then (return (i32.const -1))))
    (i32.wrap_i64 (global.get $output_off)))

  (func (export "host_output_length") (result i32)
    (i32.wrap_i64 (global.get $output_len)))

  ;; The error message's block if one is set and non-empty, else 0.
  (func (export "host_error") (result i32)
    (if (result i32) (i64.eqz (call $length (global.get $error_off)))
      (then (i32.const 0))
      (else (i32.wrap_i64 (global.get $error_off)))))

  (func (export "host_set_error") (param $p i32)
    (global.set $error_off (i64.extend_i32_u (local.get $p))))

  (func (export "host_set_log_level") (param $level i32)
    (global.set $log_level (local.get $level)))

  (func (export "host_set_http_status") (param $status i32)
    (global.set $http_status (local.get $status)))

  (func (export "host_heap_bytes") (result i32)
    (i32.sub (global.get $heap_end) (global.get $HEAP)))
)
